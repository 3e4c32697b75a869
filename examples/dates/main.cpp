//===- main.cpp - Translate dates and show where the model looked ---------===//
//
//   dates [--svg-dir DIR] [--threads N] [--weights-dtype T] ["22 Nov 2026" ...]
//   dates --eval held_out.tsv [--min-accuracy 0.99] [--weights-dtype T]
//
// Translates each argument (or each line of stdin) into ISO 8601 with the
// dates model, greedy-decoding with the KV cache, and shows the
// cross-attention map of the last decoder layer (averaged over heads):
// output characters down, source characters across, in the terminal with
// Unicode shading and, with --svg-dir, as an SVG file per line. A line the
// model cannot take (an unknown character, too long, not UTF-8) gets a
// message and the app goes on with the next. --eval reads "text<TAB>iso"
// lines, prints the exact-match accuracy and the mean time per date, and
// exits 1 if the accuracy is below --min-accuracy. --weights-dtype (f32,
// bf16, f16, int8) picks the model whose linear weights are stored that
// way (model.attn), converted from the same weights file at load.
//
//===----------------------------------------------------------------------===//

#include "DateTranslator.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

extern "C" const attnc_registry dates_registry__host;

namespace {

/// Terminal columns a character takes (CJK: 2).
int columns(const std::string &character) {
  return character.size() >= 3 ? 2 : 1;
}

/// A 2-column cell: the character, padded.
std::string cell(const std::string &character) {
  return character + std::string(size_t(2 - columns(character)), ' ');
}

void printMap(const dates::Translation &t) {
  static const char *const shades[] = {"  ", "░░", "▒▒", "▓▓", "██"};
  std::printf("      ");
  for (const std::string &c : t.source)
    std::printf("%s", cell(c).c_str());
  std::printf("\n");
  for (size_t i = 0; i < t.attention.size(); ++i) {
    std::printf("   %s ", cell(std::string(1, t.text[i])).c_str());
    for (float w : t.attention[i]) {
      int level = w < 0.05f   ? 0
                  : w < 0.2f  ? 1
                  : w < 0.45f ? 2
                  : w < 0.7f  ? 3
                              : 4;
      std::printf("%s", shades[level]);
    }
    std::printf("\n");
  }
}

std::string escape(const std::string &text) {
  std::string out;
  for (char c : text)
    out += c == '<'    ? "&lt;"
           : c == '>'  ? "&gt;"
           : c == '&'  ? "&amp;"
           : c == '\'' ? "&apos;"
                       : std::string(1, c);
  return out;
}

void writeSvg(const std::string &path, const std::string &line,
              const dates::Translation &t) {
  const int cellSize = 24, left = 40, top = 64;
  int width = left + int(t.source.size()) * cellSize + 16;
  int height = top + int(t.attention.size()) * cellSize + 16;
  std::ofstream svg(path);
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width
      << "' height='" << height << "' font-family='monospace' font-size='14'>\n"
      << "<title>" << escape(line) << " -> " << t.text << "</title>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n";
  for (size_t j = 0; j < t.source.size(); ++j)
    svg << "<text x='" << left + int(j) * cellSize + cellSize / 2 << "' y='"
        << top - 10 << "' text-anchor='middle'>" << escape(t.source[j])
        << "</text>\n";
  for (size_t i = 0; i < t.attention.size(); ++i) {
    svg << "<text x='" << left - 10 << "' y='"
        << top + int(i) * cellSize + cellSize / 2 + 5 << "' text-anchor='end'>"
        << t.text[i] << "</text>\n";
    for (size_t j = 0; j < t.attention[i].size(); ++j)
      svg << "<rect x='" << left + int(j) * cellSize << "' y='"
          << top + int(i) * cellSize << "' width='" << cellSize << "' height='"
          << cellSize << "' fill='rgb(30,60,160)' "
          << "fill-opacity='" << t.attention[i][j] << "'/>\n";
  }
  svg << "</svg>\n";
}

/// Exact-match accuracy over a "text<TAB>iso" file; '#' lines are comments.
int evaluate(dates::DateTranslator &translator, const std::string &path,
             double minAccuracy) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "dates: cannot open '%s'\n", path.c_str());
    return 1;
  }
  std::string line;
  size_t total = 0, correct = 0, lineNumber = 0;
  double milliseconds = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    if (line.empty() || line[0] == '#')
      continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      std::fprintf(stderr, "%s:%zu: expected text<TAB>iso\n", path.c_str(),
                   lineNumber);
      return 1;
    }
    std::string text = line.substr(0, tab), expected = line.substr(tab + 1);
    ++total;
    try {
      auto start = std::chrono::steady_clock::now();
      std::string got = translator.translate(text).text;
      milliseconds += std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      if (got == expected)
        ++correct;
      else
        std::printf("%s:%zu: %s -> %s, expected %s\n", path.c_str(), lineNumber,
                    text.c_str(), got.c_str(), expected.c_str());
    } catch (const attnc::Error &error) {
      std::printf("%s:%zu: %s\n", path.c_str(), lineNumber, error.what());
    }
  }
  double accuracy = total ? double(correct) / double(total) : 0.0;
  std::printf("exact match: %zu of %zu (%.1f%%), %.2f ms per date\n", correct,
              total, 100.0 * accuracy,
              total ? milliseconds / double(total) : 0.0);
  return accuracy >= minAccuracy ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  std::string svgDir, evalPath, dir = ATTNC_DATES_DIR;
  double minAccuracy = 0;
  int threads = 1;
  std::vector<std::string> lines;
  std::string weightsDtype = "f32";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--svg-dir" && i + 1 < argc)
      svgDir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg == "--eval" && i + 1 < argc)
      evalPath = argv[++i];
    else if (arg == "--min-accuracy" && i + 1 < argc)
      minAccuracy = std::atof(argv[++i]);
    else if (arg == "--model-dir" && i + 1 < argc)
      dir = argv[++i];
    else if (arg == "--weights-dtype" && i + 1 < argc)
      weightsDtype = argv[++i];
    else
      lines.push_back(arg);
  }
  bool fromStdin = lines.empty();
  if (weightsDtype != "f32" && weightsDtype != "bf16" &&
      weightsDtype != "f16" && weightsDtype != "int8") {
    std::fprintf(stderr,
                 "dates: unknown --weights-dtype %s; expected f32, bf16, f16 "
                 "or int8\n",
                 weightsDtype.c_str());
    return 2;
  }
  try {
    attnc::Model::setThreads(threads);
    dates::DateTranslator translator(
        dates_registry__host, dir + "/vocab.json", dir + "/dates.safetensors",
        weightsDtype == "f32" ? "dates" : "dates_" + weightsDtype);
    if (!evalPath.empty())
      return evaluate(translator, evalPath, minAccuracy);
    std::string line;
    for (size_t n = 1;; ++n) {
      if (fromStdin) {
        if (!std::getline(std::cin, line))
          break;
      } else {
        if (n > lines.size())
          break;
        line = lines[n - 1];
      }
      try {
        auto start = std::chrono::steady_clock::now();
        dates::Translation t = translator.translate(line);
        double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
        std::printf("%s -> %s   (%.1f ms)\n", line.c_str(), t.text.c_str(), ms);
        printMap(t);
        if (!svgDir.empty()) {
          std::string path = svgDir + "/date" + std::to_string(n) + ".svg";
          writeSvg(path, line, t);
          std::printf("   map: %s\n", path.c_str());
        }
      } catch (const attnc::Error &error) {
        std::printf("line %zu: %s (skipped)\n", n, error.what());
      }
    }
  } catch (const attnc::Error &error) {
    std::fprintf(stderr, "dates: %s\n", error.what());
    return 1;
  }
  return 0;
}
