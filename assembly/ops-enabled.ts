// Which ops this runtime build compiles. The full runtime compiles every op; `convert --runtime`
// writes a copy of this file with only the ops a model uses, so the build carries no other
// kernel (the dispatch in blob.ts tests these constants, and the compiler drops what is off).

export const EN_DENSE: bool = true;
export const EN_CONV2D: bool = true;
export const EN_DEPTHWISE_CONV2D: bool = true;
export const EN_MAX_POOL2D: bool = true;
export const EN_AVG_POOL2D: bool = true;
export const EN_ADD_N: bool = true;
export const EN_MUL: bool = true;
export const EN_MAXMIN: bool = true;
export const EN_CONCAT: bool = true;
export const EN_SOFTMAX: bool = true;
export const EN_LUT: bool = true;
export const EN_PRELU: bool = true;
export const EN_LAYOUT: bool = true;
export const EN_GATHER: bool = true;
export const EN_REQUANT: bool = true;
export const EN_SIMPLE_RNN: bool = true;
export const EN_GRU: bool = true;
export const EN_LSTM: bool = true;
export const EN_LAYER_NORM: bool = true;
export const EN_SOFTMAX_TFLITE: bool = true;
export const EN_MEAN: bool = true;
// int16 activations (TFLite 16x8) in the ops of INT16_OPS; off, such a blob is refused at init (BAD_PARAMS)
export const EN_INT16: bool = true;
// int16 weights (DENSE layout 3, CONV2D layout 2: 16x16); off, such a blob is refused at init (BAD_PARAMS)
export const EN_W16: bool = true;
