# lit configuration for attnc's compiler tests.
#
# Substitutions:
#   %attnc        the compiler (attnc-sanitized with --param sanitized=1)
#   %attn-opt     the pass driver
#   %exit1        runs a command and succeeds only if it exits with status 1
#                 exactly: a crash, an abort or a sanitizer report fails it
#   %examples     the examples/ folder
#   %python       the Python interpreter, e.g. to generate large inputs
# FileCheck and not come from LLVM 14's tools folder.
import os
import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".attn", ".mlir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
sanitized = lit_config.params.get("sanitized", "0") == "1"
# The sanitized run has outputs of its own: ctest runs it next to the plain
# one, and the two must not write each other's %t files.
config.test_exec_root = os.path.join(config.attnc_obj_root, "tests",
                                     "lit-sanitized" if sanitized else "lit")
attnc = "attnc-sanitized" if sanitized else "attnc"
if sanitized:
    # Distinct exit codes, so a sanitizer report is never mistaken for the
    # status 1 of a reported input error.
    config.environment["ASAN_OPTIONS"] = "exitcode=86:detect_leaks=1"
    config.environment["UBSAN_OPTIONS"] = "halt_on_error=1:exitcode=87:print_stacktrace=1"

tools = config.attnc_tools_dir
config.substitutions.append(("%attnc", os.path.join(tools, attnc)))
config.substitutions.append(("%attn-opt", os.path.join(tools, "attn-opt")))
config.substitutions.append(("%exit1", config.python_executable + " " +
                             os.path.join(config.attnc_src_root, "tests", "tools", "exit1.py")))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%examples", os.path.join(config.attnc_src_root, "examples")))
config.substitutions.append(("%FileCheck", os.path.join(config.llvm_tools_dir, "FileCheck")))
config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, tools, config.environment.get("PATH", "")])
