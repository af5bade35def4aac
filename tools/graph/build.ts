/**
 * RawModel -> Graph (ir.ts): normalise the config dialect, flatten nested models, infer
 * Keras-exact shapes, lint every layer/option (all problems reported at once), assign and
 * check weights, count parameters and MACs.
 */
import type { RawModel, RawWeight, Dialect } from '../readers/types.ts';
import type { Graph, IRNode, IRTensor, Shape, FloatTensor } from './ir.ts';
import { UserError, EXIT, unsupported, type LintProblem } from '../errors.ts';
import { normalizeModel, keras1Weights, type NormModel, type NormLayer, type TensorRef } from './normalize.ts';
import { REGISTRY, lintLayer, isRecurrent, countParams, fmt, type WeightSpec, type RuleCtx } from './registry.ts';

export interface BuildOptions {
  /** Fix a free batch dimension (a later stage needs a static batch). */
  batch?: number;
  /**
   * Replace the time dimension (axis 1) of every top-level model input (convert --stream
   * --stream-steps K: the blob processes K steps per invoke). Inputs must have rank >= 2.
   */
  steps?: number;
}

interface Leaf {
  key: string; // full flattened layer path, e.g. 'outer/inner'
  topName: string; // top-level layer name (raw weights group)
  innerPath: string[]; // names inside the top-level layer ([] for the top-level layer itself)
  layer: NormLayer;
  trainable: boolean;
  specs?: WeightSpec[];
  weights?: Record<string, FloatTensor>;
  applied: number;
}

interface PendingNode {
  name: string;
  leaf: Leaf;
  inputs: number[];
  outputs: number[];
  inShapes: Shape[];
  outShapes: Shape[];
  macs: number;
}

/** null (free) or a positive integer: the only dimensions a shape may hold. */
function goodDim(d: unknown): boolean {
  return d === null || (Number.isInteger(d) && (d as number) >= 1);
}

const HARD_SIGMOID_NOTE = 'hard_sigmoid uses the Keras 3 definition clip(x/6 + 0.5, 0, 1)';

export function buildGraph(raw: RawModel, opts: BuildOptions = {}): Graph {
  const file = raw.file;
  const dialect: Dialect = raw.dialect;
  const model = normalizeModel(raw.config, dialect, file);
  const notes: string[] = [];
  const problems: LintProblem[] = [];
  const addProblem = (layer: string, className: string, option: string | undefined, value: unknown, supported: string) => {
    if (problems.some((p) => p.layer === layer && p.option === option && p.className === className)) return;
    problems.push(option === undefined ? { layer, className, supported } : { layer, className, option, value, supported });
  };

  // ---- 1. config lint over every layer of every (nested) model
  const lintModel = (m: NormModel, prefix: string) => {
    for (const l of m.layers) {
      const nm = prefix + l.name;
      if (l.model) {
        lintModel(l.model, nm + '/');
        continue;
      }
      lintLayer(l.className, l.config, (o, v, s) => addProblem(nm, l.className, o, v, s));
      if (dialect === 'keras1' && l.config.data_format === 'channels_first' && /Conv/.test(l.className)) {
        addProblem(nm, l.className, 'dim_ordering', 'th', "'tf' (Theano-ordered Keras 1 kernels are not supported)");
      }
    }
  };
  lintModel(model, '');

  // ---- 2. expand (flatten) + shape inference, tolerant of unsupported layers
  const tensors: IRTensor[] = [];
  const pending: PendingNode[] = [];
  const leaves = new Map<string, Leaf>();
  const fatal: UserError[] = [];
  const usedNames = new Set<string>();
  let anyStateful = false;
  let hardSigK3 = false;
  const unknownShape = new Set<number>(); // tensor ids whose shape is unknown (after an unsupported layer)

  const newTensor = (name: string, shape: Shape, producer: number): number => {
    const id = tensors.length;
    tensors.push({ id, name, shape, dtype: 'float32', producer });
    return id;
  };

  const scanFlags = (m: NormModel) => {
    for (const l of m.layers) {
      if (l.model) {
        scanFlags(l.model);
        continue;
      }
      const cfgs = [l.config, l.config.layer?.config].filter(Boolean);
      for (const c of cfgs) {
        if (c.stateful) anyStateful = true;
        if (c.activation === 'hard_sigmoid_k3' || c.recurrent_activation === 'hard_sigmoid_k3') hardSigK3 = true;
      }
    }
  };
  scanFlags(model);
  if (hardSigK3) notes.push(HARD_SIGMOID_NOTE);

  // model inputs (top level)
  const topInputIds: number[] = [];
  let batchFixedInFile = false;
  const fileBatches = new Set<number | null>();

  const expand = (
    m: NormModel,
    prefix: string,
    weightPrefix: string,
    topName: string | null,
    innerPrefix: string[],
    givenInputs: number[] | null,
    trainable: boolean,
  ): number[] => {
    const byName = new Map<string, NormLayer>();
    for (const l of m.layers) {
      // Keras requires unique names; two layers of one name would both get that name's weights
      if (byName.has(l.name))
        throw new UserError(`${file}: two layers are named '${prefix}${l.name}' (in model '${m.name}'); layer names must be unique`, EXIT.BAD_INPUT);
      byName.set(l.name, l);
    }
    const produced = new Map<string, number[]>(); // `${layer}#${callPos}` -> tensor ids
    // inputs
    const inputLayers = m.inputs.map((r) => byName.get(r[0]));
    m.layers
      .filter((l) => l.className === 'InputLayer')
      .forEach((l) => {
        const idx = m.inputs.findIndex((r) => r[0] === l.name);
        let tid: number;
        if (givenInputs) {
          const k = idx >= 0 ? idx : 0;
          if (k >= givenInputs.length)
            throw new UserError(
              `${file}: nested model '${prefix.slice(0, -1)}' expects ${inputLayers.length} inputs, called with ${givenInputs.length}`,
              EXIT.BAD_INPUT,
            );
          tid = givenInputs[k];
        } else {
          const bis = l.config.batch_input_shape;
          if (bis === null || bis === undefined)
            throw new UserError(
              `${file}: input layer '${l.name}' has no input shape (build the model with an Input(shape=...) or input_shape before saving)`,
              EXIT.BAD_INPUT,
            );
          if (!Array.isArray(bis) || bis.length < 1 || !bis.every((d: unknown) => d === undefined || goodDim(d))) {
            throw new UserError(
              `${file}: input layer '${l.name}' option batch_input_shape=${JSON.stringify(bis)}: not a valid shape; expected a list of positive integers or None (batch first)`,
              EXIT.BAD_INPUT,
            );
          }
          fileBatches.add(bis[0] ?? null);
          tid = newTensor(
            l.name,
            bis.map((d: any) => (d === null || d === undefined ? null : Number(d))),
            -1,
          );
          if (/^u?int/.test(l.config.dtype ?? '')) tensors[tid].dtype = 'int32';
          if (idx >= 0 || m.inputs.length === 0) topInputIds[idx >= 0 ? idx : topInputIds.length] = tid;
        }
        produced.set(`${l.name}#0`, [tid]);
      });
    if (givenInputs && m.layers.every((l) => l.className !== 'InputLayer')) {
      // nested Sequential without an InputLayer: the synthetic one is in layers already (normalize)
    }

    // Node indices of a nested model in refs: Keras 2/3 count the model's own creation node for
    // Functional models (and tf.keras built Sequentials); tfjs never does.
    const offsetOf = (l: NormLayer) =>
      l.model && dialect !== 'tfjs' && (l.className === 'Functional' || (dialect === 'keras2' && l.model.layers[0]?.className === 'InputLayer')) ? 1 : 0;
    const resolve = (ref: TensorRef): number | undefined => {
      const l = byName.get(ref[0]);
      if (!l) throw new UserError(`${file}: layer reference to unknown layer '${ref[0]}' in model '${m.name}'`, EXIT.BAD_INPUT);
      if (l.className === 'InputLayer') return produced.get(`${l.name}#0`)?.[0];
      const calls = l.inbound.length;
      let pos = calls === 1 ? 0 : ref[1] - offsetOf(l);
      if (pos < 0 || pos >= calls) pos = Math.min(Math.max(ref[1], 0), calls - 1);
      const outs = produced.get(`${l.name}#${pos}`);
      if (!outs) return undefined;
      if (ref[2] >= outs.length)
        throw new UserError(`${file}: layer '${prefix}${l.name}' has ${outs.length} output(s), output ${ref[2]} was requested`, EXIT.BAD_INPUT);
      return outs[ref[2]];
    };
    // how many outputs consumers expect of each call (for unsupported layers)
    const wanted = new Map<string, number>();
    const want = (ref: TensorRef) => {
      const k = `${ref[0]}#${ref[1]}`;
      wanted.set(k, Math.max(wanted.get(k) ?? 1, ref[2] + 1));
    };
    for (const l of m.layers) for (const call of l.inbound) call.forEach(want);
    m.outputs.forEach(want);

    const todo: Array<[NormLayer, number]> = [];
    for (const l of m.layers) if (l.className !== 'InputLayer') l.inbound.forEach((_c, i) => todo.push([l, i]));
    let progress = true;
    while (todo.length && progress) {
      progress = false;
      for (let t = 0; t < todo.length; t++) {
        const [l, callPos] = todo[t];
        const ins = l.inbound[callPos].map(resolve);
        if (ins.some((x) => x === undefined)) continue;
        todo.splice(t--, 1);
        progress = true;
        const inputs = ins as number[];
        const fullName = prefix + l.name;
        const layerTrainable = trainable && l.config.trainable !== false;
        if (l.model) {
          const p = callPos === 0 ? fullName + '/' : `${fullName}@${callPos}/`;
          const outs = expand(l.model, p, weightPrefix + l.name + '/', topName ?? l.name, topName ? [...innerPrefix, l.name] : [], inputs, layerTrainable);
          produced.set(`${l.name}#${callPos}`, outs);
          continue;
        }
        let nodeName = callPos === 0 ? fullName : `${fullName}@${callPos}`;
        while (usedNames.has(nodeName)) nodeName += '_';
        usedNames.add(nodeName);
        const key = weightPrefix + l.name;
        let leaf = leaves.get(key);
        if (!leaf) {
          leaf = { key, topName: topName ?? l.name, innerPath: topName ? [...innerPrefix, l.name] : [], layer: l, trainable: layerTrainable, applied: 0 };
          leaves.set(key, leaf);
        }
        const rule = REGISTRY[l.className];
        const inShapes = inputs.map((id) => tensors[id].shape);
        const nodeId = pending.length;
        let outShapes: Shape[] | null = null;
        let specs: WeightSpec[] | undefined;
        let macs = 0;
        const unknownIn = inputs.some((id) => unknownShape.has(id));
        if (rule && !unknownIn) {
          const ctx: RuleCtx = {
            problem: (o, v, s) => addProblem(fullName, l.className, o, v, s),
            fail: (what: string): never => {
              throw new UserError(`${file}: layer '${fullName}' (${l.className}): ${what}`, EXIT.BAD_INPUT);
            },
          };
          try {
            const arity = rule.arity ?? 1;
            if (arity === 1 && inputs.length !== 1) {
              addProblem(fullName, l.className, 'inputs', inputs.length, '1 input tensor (initial_state / mask / constants arguments are not supported)');
              throw null;
            }
            outShapes = rule.outputShapes(l.config, inShapes, ctx);
            for (const s of outShapes) {
              if (!Array.isArray(s) || !s.every(goodDim))
                ctx.fail(
                  `output shape ${Array.isArray(s) ? fmt(s) : String(s)} has a dimension that is not a positive integer (input ${inShapes.map(fmt).join(', ')})`,
                );
            }
            specs = rule.weights ? rule.weights(l.config, inShapes, ctx) : [];
            macs = rule.macs ? rule.macs(l.config, inShapes, outShapes) : 0;
            if (isRecurrent(l.className) || isRecurrent(l.config.layer?.class_name ?? '')) {
              const st = l.className === 'Bidirectional' ? l.config.layer.config.stateful : l.config.stateful;
              if (st && !batchFixedInFile)
                addProblem(fullName, l.className, 'stateful', true, 'stateful RNNs only with a fixed batch size in the model (batch_input_shape / batch_size)');
            }
          } catch (e) {
            if (e instanceof UserError) fatal.push(e);
            // a layer the lint already refused may hold values its shape rule cannot use
            // (e.g. kernel_size null): its problems are reported, its shapes stay unknown
            else if (e !== null && !problems.some((p) => p.layer === fullName)) throw e;
            outShapes = null;
          }
        }
        const nOut = outShapes ? outShapes.length : (wanted.get(`${l.name}#${callPos + offsetOf(l)}`) ?? wanted.get(`${l.name}#${callPos}`) ?? 1);
        const outs: number[] = [];
        for (let i = 0; i < nOut; i++) {
          const tid = newTensor(nOut === 1 ? nodeName : `${nodeName}:${i}`, outShapes ? outShapes[i] : [], nodeId);
          if (!outShapes) unknownShape.add(tid);
          outs.push(tid);
        }
        if (rule?.inputDtype === 'int32') for (const id of inputs) tensors[id].dtype = 'int32';
        if (leaf.applied === 0 && specs) leaf.specs = specs;
        leaf.applied++;
        pending.push({ name: nodeName, leaf, inputs, outputs: outs, inShapes, outShapes: outShapes ?? [], macs });
        produced.set(`${l.name}#${callPos}`, outs);
      }
    }
    if (todo.length) {
      const names = todo.map(([l]) => prefix + l.name).join(', ');
      throw new UserError(`${file}: cannot connect layer(s) ${names} (their inputs are never produced: broken or cyclic inbound_nodes)`, EXIT.BAD_INPUT);
    }
    return m.outputs.map((r) => {
      const id = resolve(r);
      if (id === undefined) throw new UserError(`${file}: model output '${r[0]}' is not produced by the graph`, EXIT.BAD_INPUT);
      return id;
    });
  };

  // batch: decide before expansion by patching top-level input shapes
  const topInputs = model.layers.filter((l) => l.className === 'InputLayer');
  const fileBatch = topInputs.map((l) => (Array.isArray(l.config.batch_input_shape) ? (l.config.batch_input_shape[0] ?? null) : null));
  const fixedInFile = fileBatch.find((b) => b !== null) ?? null;
  batchFixedInFile = fixedInFile !== null;
  if (opts.batch !== undefined) {
    if (!(Number.isInteger(opts.batch) && opts.batch >= 1)) throw new UserError(`batch must be a positive integer, got ${opts.batch}`, EXIT.USAGE);
    let b = opts.batch;
    if (anyStateful && fixedInFile !== null) {
      if (fixedInFile !== opts.batch) notes.push(`batch ${fixedInFile} kept: the model has stateful layers built for that batch size`);
      b = fixedInFile;
    } else if (fixedInFile !== null && fixedInFile !== opts.batch) {
      notes.push(`batch size ${fixedInFile} from the file replaced by ${opts.batch}`);
    }
    for (const l of topInputs) if (Array.isArray(l.config.batch_input_shape)) l.config.batch_input_shape = [b, ...l.config.batch_input_shape.slice(1)];
  }

  if (opts.steps !== undefined) {
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new UserError(`time steps must be a positive integer, got ${opts.steps}`, EXIT.USAGE);
    for (const l of topInputs) {
      const bis = l.config.batch_input_shape;
      if (!Array.isArray(bis) || bis.length < 2) {
        throw new UserError(
          `${file}: input '${l.name}' has shape ${JSON.stringify(bis)}: a time-step count can only be set on sequence inputs [batch, steps, ...]`,
          EXIT.UNSUPPORTED,
        );
      }
      if (bis[1] !== opts.steps) notes.push(`input '${l.name}': time dimension ${bis[1] ?? 'None'} set to ${opts.steps}`);
      l.config.batch_input_shape = [bis[0], opts.steps, ...bis.slice(2)];
    }
  }

  const outputIds = expand(model, '', '', null, [], null, model.trainable);
  const inputIds = topInputIds.filter((x) => x !== undefined);

  if (problems.length) throw unsupported(file, problems);
  if (fatal.length) throw fatal[0];

  // ---- 3. weights
  assignWeights(raw, model, leaves, notes);

  // ---- 4. IR nodes
  const nodes: IRNode[] = pending.map((p, id) => {
    const first = p.leaf.applied > 0 && pending.findIndex((q) => q.leaf === p.leaf) === id;
    const counts = first && p.leaf.specs ? countParams(p.leaf.specs, p.leaf.trainable) : { trainable: 0, nonTrainable: 0 };
    return {
      id,
      name: p.name,
      className: p.leaf.layer.className,
      config: p.leaf.layer.config,
      inputs: p.inputs,
      outputs: p.outputs,
      weights: p.leaf.weights ?? {},
      trainableParams: counts.trainable,
      nonTrainableParams: counts.nonTrainable,
      macs: p.macs,
    };
  });

  // notes
  if (nodes.some((n) => n.inputs.some((t) => tensors[t].shape.slice(1).includes(null)) && n.macs > 0)) {
    notes.push('MACs count unknown (None) dimensions as 1');
  }
  for (const n of nodes)
    if (n.className === 'Embedding' && n.config.mask_zero) notes.push(`Embedding '${n.name}' has mask_zero=true: token id 0 is masked in downstream layers`);

  return {
    name: model.name,
    inputs: inputIds,
    outputs: outputIds,
    tensors,
    nodes,
    source: { file, format: raw.format, dialect, kerasVersion: raw.kerasVersion },
    notes: [...raw.notes, ...notes],
  };
}

// ---------------------------------------------------------------------------------------
// weights

const CANON = new Set([
  'kernel',
  'bias',
  'recurrent_kernel',
  'gamma',
  'beta',
  'moving_mean',
  'moving_variance',
  'depthwise_kernel',
  'pointwise_kernel',
  'embeddings',
  'alpha',
]);

interface ParsedWeight {
  raw: RawWeight;
  dir: 'forward' | 'backward' | null;
  base: string | null; // canonical name if recognisable
  index: number | null; // Keras 3 vars index
  path: string[]; // other path segments (layer names)
}

function parseWeightName(w: RawWeight): ParsedWeight {
  const segs = w.name
    .replace(/:0$/, '')
    .split('/')
    .filter((s) => s.length);
  let dir: ParsedWeight['dir'] = null;
  const path: string[] = [];
  let index: number | null = null;
  let base: string | null = null;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s === 'vars' && i + 1 < segs.length && /^\d+$/.test(segs[i + 1])) {
      index = Number(segs[i + 1]);
      break;
    }
    if (s === 'forward_layer' || s.startsWith('forward_')) {
      dir = 'forward';
      continue;
    }
    if (s === 'backward_layer' || s.startsWith('backward_')) {
      dir = 'backward';
      continue;
    }
    if (i === segs.length - 1) {
      const s2 = s.replace(/_\d+$/, ''); // tfjs renames reused names: kernel_3
      base = CANON.has(s) ? s : CANON.has(s2) ? s2 : s === 'alphas' ? 'alpha' : null;
      if (base === null) path.push(s);
      continue;
    }
    if (s === 'layers' || s === 'cell' || s === 'layer') continue;
    path.push(s);
  }
  return { raw: w, dir, base, index, path };
}

function toTensor(w: RawWeight, shape: number[]): FloatTensor {
  return { shape, data: w.data };
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function assignWeights(raw: RawModel, model: NormModel, leaves: Map<string, Leaf>, notes: string[]) {
  const file = raw.file;
  // top-level layers that expect weights, in config order
  const byTop = new Map<string, Leaf[]>();
  for (const leaf of leaves.values()) {
    if (!leaf.specs || leaf.specs.length === 0) continue;
    if (!byTop.has(leaf.topName)) byTop.set(leaf.topName, []);
    byTop.get(leaf.topName)!.push(leaf);
  }
  // keep Keras order: order of layers in the (nested) configs
  const order: string[] = [];
  const walk = (m: NormModel, prefix: string) => {
    for (const l of m.layers) {
      if (l.model) walk(l.model, prefix + l.name + '/');
      else order.push(prefix + l.name);
    }
  };
  walk(model, '');
  for (const list of byTop.values()) list.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));

  const topOrder = model.layers.map((l) => l.name).filter((n) => byTop.has(n));
  const groups = new Map<string, RawWeight[]>();
  const isWeightful = (ws: RawWeight[] | undefined) => !!ws && ws.some((w) => !/seed_generator/.test(w.name));
  const unclaimedRaw = [...raw.weights.keys()].filter((k) => isWeightful(raw.weights.get(k)) && !byTop.has(k));
  const missing = topOrder.filter((n) => !isWeightful(raw.weights.get(n)));
  if (missing.length && missing.length === unclaimedRaw.length) {
    // weights-only file with different layer names: pair weighted layers by order
    const rawOrder = [...raw.weights.keys()].filter((k) => isWeightful(raw.weights.get(k)));
    if (rawOrder.length === topOrder.length) {
      topOrder.forEach((n, i) => groups.set(n, raw.weights.get(rawOrder[i])!));
      notes.push('weights matched to layers by order (layer names in the weights file differ from the model config)');
    } else {
      missing.forEach((n, i) => groups.set(n, raw.weights.get(unclaimedRaw[i])!));
      notes.push(`weights for layer(s) ${missing.join(', ')} matched by order to weight group(s) ${unclaimedRaw.join(', ')}`);
    }
  }
  for (const n of topOrder) if (!groups.has(n) && raw.weights.has(n)) groups.set(n, raw.weights.get(n)!);

  for (const top of topOrder) {
    const list = byTop.get(top)!;
    const ws = (groups.get(top) ?? []).filter((w) => !/seed_generator/.test(w.name));
    if (ws.length === 0) {
      const l = list[0];
      throw new UserError(
        `${file}: layer '${l.key}' (${l.layer.className}): weights missing (expected ${l.specs!.map((s) => `${s.name} ${fmt(s.shape)}`).join(', ')})`,
        EXIT.BAD_INPUT,
      );
    }
    assignGroup(raw, top, list, ws);
  }
  // fill BN gamma/beta
  for (const leaf of leaves.values()) {
    if (leaf.layer.className !== 'BatchNormalization' || !leaf.weights) continue;
    const n = leaf.weights.moving_mean.shape[0];
    if (!leaf.weights.gamma) leaf.weights.gamma = { shape: [n], data: new Float32Array(n).fill(1) };
    if (!leaf.weights.beta) leaf.weights.beta = { shape: [n], data: new Float32Array(n) };
  }
}

function assignGroup(raw: RawModel, top: string, list: Leaf[], wsIn: RawWeight[]) {
  const file = raw.file;
  let ws = wsIn;
  // Keras 1 per-gate / W,U,b names
  if (raw.dialect === 'keras1' && list.length === 1) {
    const k1 = keras1Weights(
      list[0].layer.className === 'TimeDistributed' ? list[0].layer.config.layer.class_name : list[0].layer.className,
      list[0].layer.name,
      ws,
    );
    if (k1) ws = k1;
  }
  const parsed = ws.map(parseWeightName);
  // split the group between leaves
  const perLeaf = new Map<Leaf, ParsedWeight[]>();
  if (list.length === 1 && list[0].innerPath.length === 0) perLeaf.set(list[0], parsed);
  else {
    let ok = true;
    for (const p of parsed) {
      // the deepest path segment naming a leaf
      let hit: Leaf | undefined;
      for (let i = p.path.length - 1; i >= 0 && !hit; i--)
        hit = list.find((l) => l.layer.name === p.path[i] || l.innerPath.join('/') === p.path.slice(0, i + 1).join('/'));
      if (!hit) {
        ok = false;
        break;
      }
      if (!perLeaf.has(hit)) perLeaf.set(hit, []);
      perLeaf.get(hit)!.push(p);
    }
    if (!ok || list.some((l) => (perLeaf.get(l)?.length ?? 0) !== l.specs!.length)) {
      // fall back to Keras order across the group
      perLeaf.clear();
      let k = 0;
      for (const l of list) {
        perLeaf.set(l, parsed.slice(k, k + l.specs!.length));
        k += l.specs!.length;
      }
      if (k !== parsed.length) {
        const expected = list.reduce((a, l) => a + l.specs!.length, 0);
        throw new UserError(
          `${file}: layer '${top}': the file has ${parsed.length} weight arrays, the model config implies ${expected} (${list.map((l) => `${l.key}: ${l.specs!.map((s) => s.name).join(', ')}`).join('; ')})`,
          EXIT.BAD_INPUT,
        );
      }
    }
  }
  for (const leaf of list) assignLeaf(file, leaf, perLeaf.get(leaf) ?? []);
}

function assignLeaf(file: string, leaf: Leaf, ps: ParsedWeight[]) {
  const specs = leaf.specs!;
  const cls = leaf.layer.className;
  const where = `layer '${leaf.key}' (${cls})`;
  const out: Record<string, FloatTensor> = {};
  const specName = (s: WeightSpec) => s.name;
  let ordered: (ParsedWeight | undefined)[];
  const bidir = cls === 'Bidirectional';
  if (ps.length > 0 && ps.every((p) => p.index !== null)) {
    // Keras 3 vars/<i>: Keras order within each direction
    const sorted = (d: ParsedWeight['dir']) => ps.filter((p) => p.dir === d).sort((a, b) => a.index! - b.index!);
    ordered = bidir
      ? [...sorted('forward'), ...sorted('backward')]
      : sorted(null).length === ps.length
        ? sorted(null)
        : ps.slice().sort((a, b) => a.index! - b.index!);
  } else if (ps.length > 0 && ps.every((p) => p.base !== null) && new Set(ps.map((p) => `${p.dir}/${p.base}`)).size === ps.length) {
    ordered = specs.map((s) => {
      const [d, b] = bidir ? (s.name.split('/') as [string, string]) : [null, s.name];
      return ps.find((p) => p.base === b && (bidir ? p.dir === d : true));
    });
    const missing = specs.filter((_s, i) => !ordered[i]);
    if (missing.length) {
      throw new UserError(
        `${file}: ${where}: weight ${missing.map(specName).join(', ')} missing (expected ${missing.map((s) => fmt(s.shape)).join(', ')}; found ${ps.map((p) => p.raw.name).join(', ') || 'none'})`,
        EXIT.BAD_INPUT,
      );
    }
    if (ps.length > specs.length) {
      const extra = ps.filter((p) => !ordered.includes(p));
      throw new UserError(
        `${file}: ${where}: unexpected weight(s) ${extra.map((p) => p.raw.name).join(', ')} (expected ${specs.map(specName).join(', ')})`,
        EXIT.BAD_INPUT,
      );
    }
  } else {
    ordered = ps;
  }
  if (ordered.length !== specs.length) {
    throw new UserError(
      `${file}: ${where}: expected ${specs.length} weight arrays (${specs.map((s) => `${s.name} ${fmt(s.shape)}`).join(', ')}), found ${ordered.length}`,
      EXIT.BAD_INPUT,
    );
  }
  specs.forEach((s, i) => {
    const p = ordered[i]!;
    const shape = p.raw.shape;
    // tolerate a GRU reset_after bias stored flat or a squeezed/expanded layout of the same size
    if (!sameShape(shape, s.shape)) {
      throw new UserError(`${file}: ${where}: weight ${s.name} has shape ${fmt(shape)}, expected ${fmt(s.shape)}`, EXIT.BAD_INPUT);
    }
    out[s.name] = toTensor(p.raw, s.shape);
  });
  leaf.weights = out;
}
