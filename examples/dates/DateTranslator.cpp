//===- DateTranslator.cpp - Dates to ISO 8601 with the attnc runtime ------===//

#include "DateTranslator.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

using namespace dates;

std::vector<std::string> dates::utf8Characters(const std::string &text) {
  std::vector<std::string> characters;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (!length || i + length > text.size())
      throw attnc::Error("byte " + std::to_string(i + 1) +
                         " is not valid UTF-8");
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
        throw attnc::Error("byte " + std::to_string(i + k + 1) +
                           " is not valid UTF-8");
    characters.push_back(text.substr(i, length));
    i += length;
  }
  return characters;
}

/// "U+1F642" for a UTF-8 character.
static std::string codePoint(const std::string &character) {
  unsigned char c = static_cast<unsigned char>(character[0]);
  uint32_t point = character.size() == 1   ? c
                   : character.size() == 2 ? c & 0x1F
                   : character.size() == 3 ? c & 0x0F
                                           : c & 0x07;
  for (size_t i = 1; i < character.size(); ++i)
    point = point << 6 | (static_cast<unsigned char>(character[i]) & 0x3F);
  char text[16];
  std::snprintf(text, sizeof(text), "U+%04X", point);
  return text;
}

DateTranslator::DateTranslator(const attnc_registry &registry,
                               const std::string &vocabPath,
                               const std::string &weightsPath,
                               const std::string &modelName)
    : model(attnc::Model::load(registry, attnc::Weights::load(weightsPath),
                               modelName)) {
  std::ifstream in(vocabPath);
  if (!in)
    throw attnc::Error("cannot open vocabulary '" + vocabPath + "'");
  try {
    nlohmann::json vocab = nlohmann::json::parse(in);
    tokens = vocab.at("tokens").get<std::vector<std::string>>();
    bos = vocab.at("bos");
    eos = vocab.at("eos");
    maxSourceLength = vocab.at("max_source");
  } catch (const nlohmann::json::exception &e) {
    throw attnc::Error("vocabulary '" + vocabPath +
                       "' is malformed: " + e.what());
  }
}

std::vector<int32_t>
DateTranslator::encode(const std::string &line,
                       std::vector<std::string> *characters) const {
  std::vector<std::string> chars = utf8Characters(line);
  if (chars.empty())
    throw attnc::Error("the line is empty");
  if (chars.size() > maxSourceLength)
    throw attnc::Error(std::to_string(chars.size()) +
                       " characters, more than the " +
                       std::to_string(maxSourceLength) + " the model accepts");
  std::vector<int32_t> ids;
  for (const std::string &c : chars) {
    int32_t id = -1;
    for (size_t t = 4; t < tokens.size(); ++t) // Skip the special tokens.
      if (tokens[t] == c)
        id = int32_t(t);
    if (id < 0)
      throw attnc::Error("'" + c + "' (" + codePoint(c) +
                         ") is not a character the model knows");
    ids.push_back(id);
  }
  if (characters)
    *characters = chars;
  return ids;
}

Translation DateTranslator::translate(const std::string &line) {
  Translation result;
  std::vector<int32_t> ids = encode(line, &result.source);
  int64_t length = int64_t(ids.size());
  attnc::DecodeOptions options;
  options.bos = bos;
  options.eos = eos;
  options.maxSteps = 16;
  const std::string map = "decoder.layers.2.multihead_attn.probs";
  options.collect = {map};
  attnc::DecodeResult decoded =
      model.greedyDecode(attnc::Tensor::i32({1, length}, ids),
                         attnc::Tensor::i32({1}, {int32_t(length)}), options);
  const std::vector<attnc::Tensor> &steps = decoded.collected.at(map);
  for (size_t i = 0; i < decoded.tokens[0].size(); ++i) {
    int32_t token = decoded.tokens[0][i];
    if (token == eos)
      break;
    result.tokens.push_back(token);
    result.text += token >= 0 && size_t(token) < tokens.size() && token >= 4
                       ? tokens[size_t(token)]
                       : "?";
    const float *row = steps[i].f32Data(); // [1, 1, length]
    result.attention.emplace_back(row, row + length);
  }
  return result;
}
