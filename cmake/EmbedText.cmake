# Writes OUTPUT, a C++ file defining attnc::schedules::kDefaultsJSON as the
# contents of INPUT, so defaults.json stays data and is still compiled in.
file(READ ${INPUT} text)
file(WRITE ${OUTPUT}
  "// Generated from ${INPUT}; edit that file instead.\n"
  "namespace attnc::schedules {\n"
  "extern const char *const kDefaultsJSON;\n"
  "const char *const kDefaultsJSON = R\"attnc_json(${text})attnc_json\";\n"
  "}\n")
