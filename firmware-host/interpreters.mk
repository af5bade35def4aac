# The interpreter the user built, given as an include folder and a static library (the project
# never builds an interpreter). Included by firmware-host/Makefile and measure/Makefile.
# One line each when a path is missing (no commas in the texts: they would split $(if ...)).
check-wasm3:
	@$(if $(wildcard $(WASM3_INC)/wasm3.h),,$(error make wasm3: set WASM3_INC to the folder that holds wasm3.h (wasm3's source/); got '$(WASM3_INC)'))
	@$(if $(wildcard $(WASM3_LIB)),,$(error make wasm3: set WASM3_LIB to the wasm3 static library you built (libm3.a); got '$(WASM3_LIB)'))

check-wamr:
	@$(if $(wildcard $(WAMR_INC)/wasm_export.h),,$(error make wamr: set WAMR_INC to the folder that holds wasm_export.h (WAMR's core/iwasm/include); got '$(WAMR_INC)'))
	@$(if $(wildcard $(WAMR_LIB)),,$(error make wamr: set WAMR_LIB to the WAMR static library you built (libvmlib.a or libiwasm.a); got '$(WAMR_LIB)'))
