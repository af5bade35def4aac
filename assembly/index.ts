// runtime.wasm: the blob copied into linear memory (kw_blob_buffer); no imports.
export {
  kw_abi_version, kw_format_version, kw_op_mask, kw_set_memory_limit, kw_blob_buffer, kw_init, kw_num_inputs, kw_num_outputs,
  kw_input_ptr, kw_input_size, kw_output_ptr, kw_output_size, kw_invoke, kw_reset_state, kw_self_test, kw_last_error,
  kw_error_op, kw_memory_used,
} from './runtime';
