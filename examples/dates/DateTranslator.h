//===- DateTranslator.h - Dates to ISO 8601 with the attnc runtime -*- C++
//-*-===//
//
// Wraps the dates model: UTF-8 text to token ids (vocab.json), greedy
// decoding with the KV cache, and the cross-attention map of the last
// decoder layer (averaged over heads) for every output character.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_EXAMPLES_DATES_DATETRANSLATOR_H
#define ATTNC_EXAMPLES_DATES_DATETRANSLATOR_H

#include "attnc/Runtime.h"

#include <string>
#include <vector>

namespace dates {

/// One translated line.
struct Translation {
  std::vector<std::string> source; ///< The input, one UTF-8 character each.
  std::vector<int32_t> tokens;     ///< Output ids, without bos and eos.
  std::string text;                ///< The output characters.
  /// attention[i][j]: how much output character i looked at source
  /// character j (the last decoder layer, averaged over heads).
  std::vector<std::vector<float>> attention;
};

class DateTranslator {
public:
  /// Loads vocab.json and the weights into `modelName`, one of the
  /// registry's models (model.attn: dates, or dates_bf16, dates_f16,
  /// dates_int8 with reduced-precision weights); throws attnc::Error.
  DateTranslator(const attnc_registry &registry, const std::string &vocabPath,
                 const std::string &weightsPath,
                 const std::string &modelName = "dates");

  /// Splits UTF-8 text into characters and maps them to token ids. Throws
  /// attnc::Error naming the first character the model does not know, or
  /// the length if the line is longer than the model accepts.
  std::vector<int32_t> encode(const std::string &line,
                              std::vector<std::string> *characters) const;

  /// Translates one line; throws attnc::Error for bad input.
  Translation translate(const std::string &line);

  /// The model's longest input, in characters.
  size_t maxSource() const { return maxSourceLength; }

private:
  attnc::Model model;
  std::vector<std::string> tokens;
  int32_t bos = 1, eos = 2;
  size_t maxSourceLength = 40;
};

/// Splits UTF-8 text into characters; throws attnc::Error on invalid UTF-8.
std::vector<std::string> utf8Characters(const std::string &text);

} // namespace dates

#endif // ATTNC_EXAMPLES_DATES_DATETRANSLATOR_H
