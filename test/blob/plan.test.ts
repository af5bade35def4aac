import { describe, expect, it } from 'vitest';
import { planMemory, alignUp } from '../../tools/blob/plan.ts';

/** Check no two buffers that are live at the same step overlap in the arena. */
function assertNoOverlap(plan: ReturnType<typeof planMemory>) {
  const bs = plan.buffers;
  for (let i = 0; i < bs.length; i++)
    for (let j = i + 1; j < bs.length; j++) {
      const a = bs[i],
        b = bs[j];
      const timeOverlap = a.first <= b.last && b.first <= a.last;
      const spaceOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      expect(timeOverlap && spaceOverlap, `buffers ${a.root} and ${b.root} collide`).toBe(false);
    }
}

function chain(sizes: number[]) {
  // tensor i -> op i -> tensor i+1
  const tensors = sizes.map((bytes, id) => ({ id, bytes }));
  const ops = sizes.slice(1).map((_, i) => ({ inputs: [i], outputs: [i + 1] }));
  return { tensors, ops, inputs: [0], outputs: [sizes.length - 1] };
}

describe('memory planner (greedy by size, first fit)', () => {
  it('sequential chains: arena equals the live-bytes lower bound', () => {
    const cases = [
      [10, 100, 50, 80],
      [48, 96, 96, 40, 40, 10],
      [1, 2, 3, 4, 5, 6, 7, 8],
      [640, 320, 1280, 64, 10],
      [100, 100, 100, 100],
    ];
    for (const sizes of cases) {
      const plan = planMemory(chain(sizes));
      assertNoOverlap(plan);
      let bound = 0;
      for (let i = 0; i + 1 < sizes.length; i++) bound = Math.max(bound, alignUp(sizes[i]) + alignUp(sizes[i + 1]));
      expect(plan.lowerBound).toBe(bound);
      expect(plan.arenaSize).toBe(bound);
      for (const off of plan.offsets.values()) expect(off % 16).toBe(0);
    }
  });

  it('concrete offsets for a 4-tensor chain', () => {
    const plan = planMemory(chain([10, 100, 50, 80]));
    // largest (100) at 0; 80 (no overlap with 100) also at 0; 50 after 100 (live with 100 and 80); 10 after 100
    expect(plan.offsets.get(1)).toBe(0);
    expect(plan.offsets.get(3)).toBe(0);
    expect(plan.offsets.get(2)).toBe(112);
    expect(plan.offsets.get(0)).toBe(112);
    expect(plan.arenaSize).toBe(112 + 64);
  });

  it('aliases share their root buffer and extend its lifetime', () => {
    // t0 -op0-> t1, t2 = alias(t1), t2 -op1-> t3, t3 -op2-> t4; t1 must live until op1
    const plan = planMemory({
      tensors: [
        { id: 0, bytes: 64 },
        { id: 1, bytes: 32 },
        { id: 2, bytes: 32, aliasOf: 1 },
        { id: 3, bytes: 48 },
        { id: 4, bytes: 16 },
      ],
      ops: [
        { inputs: [0], outputs: [1] },
        { inputs: [2], outputs: [3] },
        { inputs: [3], outputs: [4] },
      ],
      inputs: [0],
      outputs: [4],
    });
    expect(plan.offsets.get(2)).toBe(plan.offsets.get(1));
    expect(plan.buffers.length).toBe(4);
    const b1 = plan.buffers.find((b) => b.root === 1)!;
    expect([b1.first, b1.last]).toEqual([0, 1]);
    assertNoOverlap(plan);
    expect(plan.arenaSize).toBe(plan.lowerBound);
    expect(plan.arenaSize).toBe(96); // max(64+32, 32+48, 48+16)
  });

  it('branches: skip connection keeps its buffer alive and nothing collides', () => {
    // x -> a -> b ; add(x, b) -> y
    const plan = planMemory({
      tensors: [
        { id: 0, bytes: 256 },
        { id: 1, bytes: 512 },
        { id: 2, bytes: 256 },
        { id: 3, bytes: 256 },
      ],
      ops: [
        { inputs: [0], outputs: [1] },
        { inputs: [1], outputs: [2] },
        { inputs: [0, 2], outputs: [3] },
      ],
      inputs: [0],
      outputs: [3],
    });
    assertNoOverlap(plan);
    expect(plan.lowerBound).toBe(1024);
    expect(plan.arenaSize).toBe(1024);
    // model outputs live until after the last op
    expect(plan.buffers.find((b) => b.root === 3)!.last).toBe(3);
  });
  it('views: aliases with a byte offset are slices of their root, which lives from the first slice written to its last read', () => {
    // x -> tiles t0, t1 (slices of y at 0 and 40) ; y -> z
    const plan = planMemory({
      tensors: [
        { id: 0, bytes: 64 },
        { id: 1, bytes: 80 },
        { id: 2, bytes: 40, aliasOf: 1, aliasOffset: 0 },
        { id: 3, bytes: 40, aliasOf: 1, aliasOffset: 40 },
        { id: 4, bytes: 16 },
      ],
      ops: [
        { inputs: [0], outputs: [2] },
        { inputs: [0], outputs: [3] },
        { inputs: [1], outputs: [4] },
      ],
      inputs: [0],
      outputs: [4],
    });
    assertNoOverlap(plan);
    const y = plan.offsets.get(1)!;
    expect([plan.offsets.get(2), plan.offsets.get(3)]).toEqual([y, y + 40]);
    const root = plan.buffers.find((b) => b.root === 1)!;
    expect([root.first, root.last, root.bytes]).toEqual([0, 2, 80]);
    // x (live at steps 0..1) and y (0..2) never share bytes
    const x = plan.offsets.get(0)!;
    expect(x + 64 <= y || y + 80 <= x).toBe(true);
  });
});
