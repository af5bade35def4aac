export function kw_abi_version(): i32 { return 1; }
