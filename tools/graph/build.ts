/**
 * RawModel -> Graph (ir.ts): normalise the config dialect, flatten nested models, infer
 * Keras-exact shapes, lint every layer/option (all problems reported at once), assign and
 * check weights, count parameters and MACs.
 */
import type { RawModel, RawWeight, Dialect } from '../readers/types.ts';
import type { Graph, IRNode, IRTensor, Shape, FloatTensor, NestedCall, ShapeSource } from './ir.ts';
import { UserError, EXIT, unsupported, type LintProblem } from '../errors.ts';
import { normalizeModel, keras1Weights, type NormModel, type NormLayer, type TensorRef } from './normalize.ts';
import { countParams, fmt, type LayerRule, type WeightSpec, type RuleCtx } from './shapes.ts';
import { entryOf, INPUT_LAYER, isRecurrent, SUPPORTED_CLASSES } from '../layers/index.ts';
import { ACTIVATION_KERAS_NAMES } from './config.ts';
import { buildTfliteGraph } from './build-tflite.ts';

/** The shape rule of a class: its table entry's, or the model input's. */
function ruleOf(className: string): LayerRule | undefined {
  return className === INPUT_LAYER.className ? INPUT_LAYER.rule : entryOf(className)?.rule;
}

export interface BuildOptions {
  /** Fix a free batch dimension (a later stage needs a static batch). */
  batch?: number;
  /**
   * Replace the time dimension (axis 1) of every top-level model input (convert --stream
   * --stream-steps K: the blob processes K steps per invoke). Inputs must have rank >= 2.
   */
  steps?: number;
  /**
   * Keep lint problems in the graph (`problems`) instead of throwing them (summary: the whole
   * table with the unsupported layers marked). Weights are then not assigned.
   */
  keepProblems?: boolean;
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
  if (raw.tflite) return buildTfliteGraph(raw.tflite, { keepProblems: opts.keepProblems });
  return new GraphBuilder(raw).build(opts);
}

/** One model call being expanded: its layers by name and the tensors each call produced. */
interface Scope {
  m: NormModel;
  prefix: string;
  weightPrefix: string;
  topName: string | null;
  innerPrefix: string[];
  trainable: boolean;
  byName: Map<string, NormLayer>;
  produced: Map<string, number[]>; // `${layer}#${callPos}` -> tensor ids
  wanted: Map<string, number>; // outputs consumers expect of each call (for unsupported layers)
  maxNode: Map<string, number>; // the highest node index refs give each layer
}

/** Builds the IR: lint every layer, expand nested models, infer shapes, then attach weights. */
class GraphBuilder {
  readonly file: string;
  readonly dialect: Dialect;
  readonly model: NormModel;
  readonly notes: string[] = [];
  readonly problems: LintProblem[] = [];
  readonly tensors: IRTensor[] = [];
  readonly pending: PendingNode[] = [];
  readonly leaves = new Map<string, Leaf>();
  readonly fatal: UserError[] = [];
  readonly usedNames = new Set<string>();
  /** tensor ids whose shape is unknown (after an unsupported layer) */
  readonly unknownShape = new Set<number>();
  readonly topInputIds: number[] = [];
  readonly topInputSources: (ShapeSource | null)[] = [];
  anyStateful = false;
  batchFixedInFile = false;
  /** Each call of a nested model, outermost first (for the summary; the converter ignores it). */
  readonly nested: NestedCall[] = [];
  /** Index in `nested` of the nested model call being expanded, -1 at the top level. */
  currentCall = -1;

  constructor(readonly raw: RawModel) {
    this.file = raw.file;
    this.dialect = raw.dialect;
    this.model = normalizeModel(raw.config, this.dialect, this.file);
    if (this.dialect === 'tfjs') this.tfjsDepthMultipliers(this.model);
  }

  /**
   * tfjs's SeparableConv getConfig omits depth_multiplier (normalised to 1), so a tfjs file
   * with depth_multiplier > 1 carries it only in the depthwise kernel's last dimension.
   */
  tfjsDepthMultipliers(m: NormModel): void {
    for (const l of m.layers) {
      if (l.model) this.tfjsDepthMultipliers(l.model);
      if (!l.className.startsWith('SeparableConv')) continue;
      const all = [...this.raw.weights.values()].flat();
      const w =
        all.find((x) => x.name === `${l.name}/depthwise_kernel` || x.name.endsWith(`/${l.name}/depthwise_kernel`)) ??
        this.raw.weights.get(l.name)?.find((x) => x.name === 'depthwise_kernel');
      const dm = w?.shape[w.shape.length - 1];
      if (Number.isInteger(dm) && (dm as number) > 1) l.config.depth_multiplier = dm;
    }
  }

  build(opts: BuildOptions): Graph {
    this.lintModel(this.model, '');
    this.scanFlags(this.model);
    this.fixBatch(opts);
    this.fixSteps(opts);
    const outputIds = this.expand(this.model, '', '', null, [], null, this.model.trainable);
    const inputIds = this.topInputIds.filter((x) => x !== undefined);
    const inputSources = this.topInputIds.map((_x, i) => this.topInputSources[i] ?? null).filter((_s, i) => this.topInputIds[i] !== undefined);
    this.lintMasking();
    if (this.problems.length && !opts.keepProblems) throw unsupported(this.file, this.problems);
    if (this.fatal.length) throw this.fatal[0];
    if (!this.problems.length) assignWeights(this.raw, this.model, this.leaves, this.notes);
    const nodes = this.irNodes();
    this.addNotes(nodes);
    const { raw, file, dialect } = this;
    return {
      name: this.model.name,
      modelClass: this.model.className,
      inputs: inputIds,
      outputs: outputIds,
      tensors: this.tensors,
      nodes,
      source: { file, format: raw.format, dialect, kerasVersion: raw.kerasVersion },
      notes: [...raw.notes, ...this.notes],
      ...(this.problems.length ? { problems: this.problems } : {}),
      ...(this.nested.length ? { nested: this.nested } : {}),
      inputSources,
    };
  }

  addProblem(layer: string, className: string, option: string | undefined, value: unknown, supported: string): void {
    if (this.problems.some((p) => p.layer === layer && p.option === option && p.className === className)) return;
    // activations by the names Keras gives them, not the converter's canonical ones
    const v = option !== undefined && /activation$/.test(option) && typeof value === 'string' ? (ACTIVATION_KERAS_NAMES[value] ?? value) : value;
    this.problems.push(option === undefined ? { layer, className, supported } : { layer, className, option, value: v, supported });
  }

  /** Config lint over every layer of every (nested) model. */
  lintModel(m: NormModel, prefix: string): void {
    for (const l of m.layers) {
      const nm = prefix + l.name;
      if (l.model) {
        this.lintModel(l.model, nm + '/');
        continue;
      }
      const add = (o: string | undefined, v: unknown, s: string) => this.addProblem(nm, l.className, o, v, s);
      const rule = ruleOf(l.className);
      if (rule) rule.lint?.(l.config, add);
      else if (!this.problems.some((p) => p.layer === nm))
        this.problems.push({ layer: nm, className: l.className, supported: SUPPORTED_CLASSES.join(', '), unknownClass: true });
      if (this.dialect === 'keras1' && l.config.data_format === 'channels_first' && /Conv/.test(l.className)) {
        this.addProblem(nm, l.className, 'dim_ordering', 'th', "'tf' (Theano-ordered Keras 1 kernels are not supported)");
      }
    }
  }

  scanFlags(m: NormModel): void {
    let hardSigK3 = false;
    const scan = (mm: NormModel) => {
      for (const l of mm.layers) {
        if (l.model) {
          scan(l.model);
          continue;
        }
        for (const c of [l.config, l.config.layer?.config].filter(Boolean)) {
          if (c.stateful) this.anyStateful = true;
          if (c.activation === 'hard_sigmoid_k3' || c.recurrent_activation === 'hard_sigmoid_k3') hardSigK3 = true;
        }
      }
    };
    scan(m);
    if (hardSigK3) this.notes.push(HARD_SIGMOID_NOTE);
  }

  topInputLayers(): NormLayer[] {
    return this.model.layers.filter((l) => l.className === 'InputLayer');
  }

  /** The static batch: decided before expansion by patching the top-level input shapes. */
  fixBatch(opts: BuildOptions): void {
    const topInputs = this.topInputLayers();
    const fileBatch = topInputs.map((l) => (Array.isArray(l.config.batch_input_shape) ? (l.config.batch_input_shape[0] ?? null) : null));
    const fixedInFile = fileBatch.find((b) => b !== null) ?? null;
    this.batchFixedInFile = fixedInFile !== null;
    if (opts.batch === undefined) return;
    if (!(Number.isInteger(opts.batch) && opts.batch >= 1)) throw new UserError(`batch must be a positive integer, got ${opts.batch}`, EXIT.USAGE);
    let b = opts.batch;
    if (this.anyStateful && fixedInFile !== null) {
      if (fixedInFile !== opts.batch) this.notes.push(`batch ${fixedInFile} kept: the model has stateful layers built for that batch size`);
      b = fixedInFile;
    } else if (fixedInFile !== null && fixedInFile !== opts.batch) {
      this.notes.push(`batch size ${fixedInFile} from the file replaced by ${opts.batch}`);
    }
    for (const l of topInputs) if (Array.isArray(l.config.batch_input_shape)) l.config.batch_input_shape = [b, ...l.config.batch_input_shape.slice(1)];
  }

  /** convert --stream-steps: the time dimension of every top-level input. */
  fixSteps(opts: BuildOptions): void {
    if (opts.steps === undefined) return;
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new UserError(`time steps must be a positive integer, got ${opts.steps}`, EXIT.USAGE);
    for (const l of this.topInputLayers()) {
      const bis = l.config.batch_input_shape;
      if (!Array.isArray(bis) || bis.length < 2) {
        throw new UserError(
          `${this.file}: input '${l.name}' has shape ${JSON.stringify(bis)}: a time-step count can only be set on sequence inputs [batch, steps, ...]`,
          EXIT.UNSUPPORTED,
        );
      }
      if (bis[1] !== opts.steps) this.notes.push(`input '${l.name}': time dimension ${bis[1] ?? 'None'} set to ${opts.steps}`);
      l.config.batch_input_shape = [bis[0], opts.steps, ...bis.slice(2)];
    }
  }

  newTensor(name: string, shape: Shape, producer: number): number {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, dtype: 'float32', producer });
    return id;
  }

  /** Expand one (nested) model call; returns its output tensor ids. */
  expand(
    m: NormModel,
    prefix: string,
    weightPrefix: string,
    topName: string | null,
    innerPrefix: string[],
    givenInputs: number[] | null,
    trainable: boolean,
  ): number[] {
    const s = this.scope(m, prefix, weightPrefix, topName, innerPrefix, trainable);
    this.bindInputs(s, givenInputs);
    const todo: Array<[NormLayer, number]> = [];
    for (const l of m.layers) if (l.className !== 'InputLayer') l.inbound.forEach((_c, i) => todo.push([l, i]));
    let progress = true;
    while (todo.length && progress) {
      progress = false;
      for (let t = 0; t < todo.length; t++) {
        const [l, callPos] = todo[t];
        const ins = l.inbound[callPos].map((r) => this.resolve(s, r));
        if (ins.some((x) => x === undefined)) continue;
        todo.splice(t--, 1);
        progress = true;
        this.applyLayer(s, l, callPos, ins as number[]);
      }
    }
    if (todo.length) {
      const names = todo.map(([l]) => prefix + l.name).join(', ');
      throw new UserError(`${this.file}: cannot connect layer(s) ${names} (their inputs are never produced: broken or cyclic inbound_nodes)`, EXIT.BAD_INPUT);
    }
    return m.outputs.map((r) => {
      const id = this.resolve(s, r);
      if (id === undefined) throw new UserError(`${this.file}: model output '${r[0]}' is not produced by the graph`, EXIT.BAD_INPUT);
      return id;
    });
  }

  scope(m: NormModel, prefix: string, weightPrefix: string, topName: string | null, innerPrefix: string[], trainable: boolean): Scope {
    const byName = new Map<string, NormLayer>();
    for (const l of m.layers) {
      // Keras requires unique names; two layers of one name would both get that name's weights
      if (byName.has(l.name))
        throw new UserError(`${this.file}: two layers are named '${prefix}${l.name}' (in model '${m.name}'); layer names must be unique`, EXIT.BAD_INPUT);
      byName.set(l.name, l);
    }
    const wanted = new Map<string, number>();
    const maxNode = new Map<string, number>();
    const want = (ref: TensorRef) => {
      const k = `${ref[0]}#${ref[1]}`;
      wanted.set(k, Math.max(wanted.get(k) ?? 1, ref[2] + 1));
      maxNode.set(ref[0], Math.max(maxNode.get(ref[0]) ?? 0, ref[1]));
    };
    for (const l of m.layers) for (const call of l.inbound) call.forEach(want);
    m.outputs.forEach(want);
    return { m, prefix, weightPrefix, topName, innerPrefix, trainable, byName, produced: new Map(), wanted, maxNode };
  }

  /** The tensors of the model's InputLayers: given by the caller (nested model) or new. */
  bindInputs(s: Scope, givenInputs: number[] | null): void {
    const { m, prefix, file } = { ...s, file: this.file };
    const nInputs = m.inputs.length;
    for (const l of m.layers.filter((x) => x.className === 'InputLayer')) {
      const idx = m.inputs.findIndex((r) => r[0] === l.name);
      let tid: number;
      if (givenInputs) {
        const k = idx >= 0 ? idx : 0;
        if (k >= givenInputs.length)
          throw new UserError(`${file}: nested model '${prefix.slice(0, -1)}' expects ${nInputs} inputs, called with ${givenInputs.length}`, EXIT.BAD_INPUT);
        tid = givenInputs[k];
      } else {
        tid = this.modelInput(l);
        if (idx >= 0 || nInputs === 0) {
          const k = idx >= 0 ? idx : this.topInputIds.length;
          this.topInputIds[k] = tid;
          this.topInputSources[k] = l.shapeSource ?? null;
        }
      }
      s.produced.set(`${l.name}#0`, [tid]);
    }
  }

  modelInput(l: NormLayer): number {
    const bis = l.config.batch_input_shape;
    if (bis === null || bis === undefined)
      throw new UserError(
        `${this.file}: input layer '${l.name}' has no input shape (build the model with an Input(shape=...) or input_shape before saving)`,
        EXIT.BAD_INPUT,
      );
    if (!Array.isArray(bis) || bis.length < 1 || !bis.every((d: unknown) => d === undefined || goodDim(d))) {
      throw new UserError(
        `${this.file}: input layer '${l.name}' option batch_input_shape=${JSON.stringify(bis)}: not a valid shape; expected a list of positive integers or None (batch first)`,
        EXIT.BAD_INPUT,
      );
    }
    const tid = this.newTensor(
      l.name,
      bis.map((d: any) => (d === null || d === undefined ? null : Number(d))),
      -1,
    );
    if (/^u?int/.test(l.config.dtype ?? '')) this.tensors[tid].dtype = 'int32';
    return tid;
  }

  /**
   * Node indices of a nested model in refs: Keras 2/3 count the model's own creation node for
   * Functional models (and tf.keras built Sequentials); tfjs never does.
   */
  offsetOf(l: NormLayer): number {
    const d = this.dialect;
    return l.model && d !== 'tfjs' && (l.className === 'Functional' || (d === 'keras2' && l.model.layers[0]?.className === 'InputLayer')) ? 1 : 0;
  }

  resolve(s: Scope, ref: TensorRef): number | undefined {
    const l = s.byName.get(ref[0]);
    if (!l) throw new UserError(`${this.file}: layer reference to unknown layer '${ref[0]}' in model '${s.m.name}'`, EXIT.BAD_INPUT);
    if (l.className === 'InputLayer') return s.produced.get(`${l.name}#0`)?.[0];
    const calls = l.inbound.length;
    // a nested model called n times and referred to as node n counts its own creation node
    // (tfjs does for a built Sequential and for tf.model)
    const offset = l.model && (s.maxNode.get(l.name) ?? 0) >= calls ? 1 : this.offsetOf(l);
    let pos = calls === 1 ? 0 : ref[1] - offset;
    if (pos < 0 || pos >= calls) pos = Math.min(Math.max(ref[1], 0), calls - 1);
    const outs = s.produced.get(`${l.name}#${pos}`);
    if (!outs) return undefined;
    if (ref[2] >= outs.length)
      throw new UserError(`${this.file}: layer '${s.prefix}${l.name}' has ${outs.length} output(s), output ${ref[2]} was requested`, EXIT.BAD_INPUT);
    return outs[ref[2]];
  }

  /** One call of one layer: a nested model expands; a layer becomes a pending node with inferred shapes. */
  applyLayer(s: Scope, l: NormLayer, callPos: number, inputs: number[]): void {
    const fullName = s.prefix + l.name;
    const layerTrainable = s.trainable && l.config.trainable !== false;
    if (l.model) {
      const p = callPos === 0 ? fullName + '/' : `${fullName}@${callPos}/`;
      const inner = s.topName ? [...s.innerPrefix, l.name] : [];
      const call: NestedCall = {
        name: p.slice(0, -1),
        className: l.className,
        parent: this.currentCall,
        inputs,
        outputs: [],
        firstNode: this.pending.length,
        endNode: 0,
      };
      const parent = this.currentCall;
      this.currentCall = this.nested.push(call) - 1;
      call.outputs = this.expand(l.model, p, s.weightPrefix + l.name + '/', s.topName ?? l.name, inner, inputs, layerTrainable);
      call.endNode = this.pending.length;
      this.currentCall = parent;
      s.produced.set(`${l.name}#${callPos}`, call.outputs);
      return;
    }
    let nodeName = callPos === 0 ? fullName : `${fullName}@${callPos}`;
    while (this.usedNames.has(nodeName)) nodeName += '_';
    this.usedNames.add(nodeName);
    const key = s.weightPrefix + l.name;
    let leaf = this.leaves.get(key);
    if (!leaf) {
      leaf = { key, topName: s.topName ?? l.name, innerPath: s.topName ? [...s.innerPrefix, l.name] : [], layer: l, trainable: layerTrainable, applied: 0 };
      this.leaves.set(key, leaf);
    }
    const inShapes = inputs.map((id) => this.tensors[id].shape);
    const { outShapes, specs, macs } = this.inferShapes(l, fullName, inputs, inShapes);
    const nodeId = this.pending.length;
    const nOut = outShapes ? outShapes.length : (s.wanted.get(`${l.name}#${callPos + this.offsetOf(l)}`) ?? s.wanted.get(`${l.name}#${callPos}`) ?? 1);
    const outs: number[] = [];
    for (let i = 0; i < nOut; i++) {
      const tid = this.newTensor(nOut === 1 ? nodeName : `${nodeName}:${i}`, outShapes ? outShapes[i] : [], nodeId);
      if (!outShapes) this.unknownShape.add(tid);
      outs.push(tid);
    }
    if (ruleOf(l.className)?.inputDtype === 'int32') for (const id of inputs) this.tensors[id].dtype = 'int32';
    if (leaf.applied === 0 && specs) leaf.specs = specs;
    leaf.applied++;
    this.pending.push({ name: nodeName, leaf, inputs, outputs: outs, inShapes, outShapes: outShapes ?? [], macs });
    s.produced.set(`${l.name}#${callPos}`, outs);
  }

  /** The layer's shape rule; null shapes when the layer is unsupported or follows one. */
  inferShapes(l: NormLayer, fullName: string, inputs: number[], inShapes: Shape[]): { outShapes: Shape[] | null; specs?: WeightSpec[]; macs: number } {
    const rule = ruleOf(l.className);
    if (!rule || inputs.some((id) => this.unknownShape.has(id))) return { outShapes: null, macs: 0 };
    const ctx: RuleCtx = {
      problem: (o, v, s) => this.addProblem(fullName, l.className, o, v, s),
      fail: (what: string): never => {
        throw new UserError(`${this.file}: layer '${fullName}' (${l.className}): ${what}`, EXIT.BAD_INPUT);
      },
    };
    try {
      if ((rule.arity ?? 1) === 1 && inputs.length !== 1) {
        this.addProblem(fullName, l.className, 'inputs', inputs.length, '1 input tensor (initial_state / mask / constants arguments are not supported)');
        throw null;
      }
      const outShapes = rule.outputShapes(l.config, inShapes, ctx);
      for (const s of outShapes) {
        if (!Array.isArray(s) || !s.every(goodDim))
          ctx.fail(
            `output shape ${Array.isArray(s) ? fmt(s) : String(s)} has a dimension that is not a positive integer (input ${inShapes.map(fmt).join(', ')})`,
          );
      }
      const specs = rule.weights ? rule.weights(l.config, inShapes, ctx) : [];
      const macs = rule.macs ? rule.macs(l.config, inShapes, outShapes) : 0;
      this.checkStateful(l, fullName);
      return { outShapes, specs, macs };
    } catch (e) {
      if (e instanceof UserError) this.fatal.push(e);
      // a layer the lint already refused may hold values its shape rule cannot use
      // (e.g. kernel_size null): its problems are reported, its shapes stay unknown
      else if (e !== null && !this.problems.some((p) => p.layer === fullName)) throw e;
      return { outShapes: null, macs: 0 };
    }
  }

  /**
   * Keras Masking makes recurrent layers skip the steps whose features all equal mask_value;
   * the recurrent ops implement only Embedding(mask_zero=True) masks. Masking is an identity
   * for every other layer, so it is refused only where its mask reaches a recurrent layer.
   */
  lintMasking(): void {
    const PASS = new Set([
      'Dropout',
      'SpatialDropout1D',
      'GaussianNoise',
      'GaussianDropout',
      'Activation',
      'Dense',
      'TimeDistributed',
      'BatchNormalization',
      'ReLU',
      'LeakyReLU',
    ]);
    for (const p of this.pending) {
      const l = p.leaf.layer;
      if (!isRecurrent(l.className) && !isRecurrent(l.config.layer?.class_name ?? '')) continue;
      let t = p.inputs[0];
      for (let guard = 0; guard < 1000 && t !== undefined; guard++) {
        const src = this.pending[this.tensors[t].producer];
        if (!src) break;
        if (src.leaf.layer.className === 'Masking') {
          const why = `no Masking whose mask reaches a recurrent layer (here '${p.name}'); mask padded sequences with Embedding(mask_zero=True)`;
          this.addProblem(src.name, 'Masking', 'mask_value', src.leaf.layer.config.mask_value ?? 0, why);
          break;
        }
        if (!PASS.has(src.leaf.layer.className)) break;
        t = src.inputs[0];
      }
    }
  }

  checkStateful(l: NormLayer, fullName: string): void {
    if (!(isRecurrent(l.className) || isRecurrent(l.config.layer?.class_name ?? ''))) return;
    const st = l.className === 'Bidirectional' ? l.config.layer.config.stateful : l.config.stateful;
    if (st && !this.batchFixedInFile)
      this.addProblem(fullName, l.className, 'stateful', true, 'stateful RNNs only with a fixed batch size in the model (batch_input_shape / batch_size)');
  }

  irNodes(): IRNode[] {
    const pending = this.pending;
    return pending.map((p, id) => {
      const first = p.leaf.applied > 0 && pending.findIndex((q) => q.leaf === p.leaf) === id;
      const counts = first && p.leaf.specs ? countParams(p.leaf.specs, p.leaf.trainable) : { trainable: first ? this.fileParams(p.leaf) : 0, nonTrainable: 0 };
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
  }

  /**
   * A layer without weight specs (an unsupported class, or shapes unknown after one): Keras's
   * Param # is the size of its weights in the file (top-level layers; nested ones show 0).
   */
  fileParams(leaf: Leaf): number {
    if (leaf.innerPath.length || leaf.topName !== leaf.key) return 0;
    const ws = (this.raw.weights.get(leaf.topName) ?? []).filter((w) => !/seed_generator/.test(w.name));
    return ws.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  }

  addNotes(nodes: IRNode[]): void {
    if (nodes.some((n) => n.inputs.some((t) => this.tensors[t].shape.slice(1).includes(null)) && n.macs > 0)) {
      this.notes.push('MACs count unknown (None) dimensions as 1');
    }
    for (const n of nodes)
      if (n.className === 'Embedding' && n.config.mask_zero)
        this.notes.push(`Embedding '${n.name}' has mask_zero=true: token id 0 is masked in downstream layers`);
  }
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
