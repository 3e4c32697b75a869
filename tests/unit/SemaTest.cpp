//===- SemaTest.cpp - Checked specs from .attn sources --------------------===//

#include "FrontendTestUtil.h"

#include "gtest/gtest.h"

using namespace attnc;
using attnc::test::Snippet;

namespace {

TEST(Sema, AttentionDefaults) {
  Snippet snippet("attention a { heads = 8; head_dim = 64; }");
  auto unit = snippet.analyze();
  ASSERT_TRUE(unit) << snippet.output();
  const AttentionSpec &a = *unit->attentions.at(0);
  EXPECT_EQ(a.heads, 8);
  EXPECT_EQ(a.kvHeads, 8) << "kv_heads defaults to heads";
  EXPECT_EQ(a.scoring, Scoring::Dot);
  EXPECT_FALSE(a.scale.has_value());
  EXPECT_EQ(a.emptyRows, EmptyRowPolicy::Zero);
  EXPECT_EQ(a.probs, ProbsOutput::None);
  EXPECT_FALSE(a.mask.keyPadding || a.mask.segments || a.mask.predicate);
  EXPECT_TRUE(a.projectionBias);
  ASSERT_EQ(unit->targets.size(), 1u);
  EXPECT_EQ(unit->targets[0].halideTarget, "host");
  EXPECT_EQ(unit->dtype, ElementType::F32);
}

TEST(Sema, ConstantsFoldWithPromotion) {
  Snippet snippet("const d = 512;\nconst h = 8;\n"
                  "attention a { heads = h; head_dim = d / h; "
                  "scoring = dot(scale = 1 / sqrt(d / h)); }");
  auto unit = snippet.analyze();
  ASSERT_TRUE(unit) << snippet.output();
  EXPECT_EQ(unit->attentions[0]->headDim, 64);
  EXPECT_DOUBLE_EQ(*unit->attentions[0]->scale, 0.125);
  EXPECT_EQ(unit->intConstants.at("d"), 512);
}

TEST(Sema, MasksIntersect) {
  Snippet snippet("attention a { heads = 2; head_dim = 8; "
                  "mask = causal & key_padding & window(128); }");
  auto unit = snippet.analyze();
  ASSERT_TRUE(unit) << snippet.output();
  const MaskSpec &mask = unit->attentions[0]->mask;
  EXPECT_TRUE(mask.keyPadding);
  ASSERT_TRUE(mask.predicate);
  EXPECT_EQ(mask.predicate->canonical(),
            "(and (le k q) (and (lt (sub q k) 128) (lt (sub k q) 128)))");
  EXPECT_EQ(mask.sameSequenceTerm, "causal");
}

/// The canonical tree of the mask of a one-block file, or its first error.
std::string maskOf(const std::string &mask) {
  Snippet snippet("const w = 16;\nattention a { heads = 2; head_dim = 8; "
                  "mask = " +
                  mask + "; }");
  auto unit = snippet.analyze();
  if (!unit)
    return snippet.firstLine();
  const auto &predicate = unit->attentions[0]->mask.predicate;
  return predicate ? predicate->canonical() : "none";
}

TEST(Sema, NamedMaskTermsAreTheirDefinitions) {
  // docs/dsl.md's definitions, written by hand: the prelude must agree.
  EXPECT_EQ(maskOf("causal"), maskOf("predicate(b, h, q, k) { k <= q }"));
  EXPECT_EQ(maskOf("window(w)"),
            maskOf("predicate(bb, hh, i, j) { i - j < 16 && j - i < 16 }"));
  EXPECT_EQ(maskOf("causal & window(3)"),
            maskOf("predicate(b, h, q, k) { k <= q } & "
                   "predicate(b, h, q, k) { q - k < 3 && k - q < 3 }"));
  EXPECT_EQ(maskOf("causal"), "(le k q)");
  // Arguments are checked against the term's row.
  EXPECT_EQ(maskOf("window(0)"),
            "test.attn:2:54: error: window size must be a positive integer, "
            "got integer 0");
  EXPECT_EQ(maskOf("window(1, 2)"),
            "test.attn:2:47: error: window takes one size: window(128)");
  EXPECT_EQ(maskOf("window(2.5)"),
            "test.attn:2:54: error: window size must be a positive integer, "
            "got number 2.5");
  EXPECT_EQ(maskOf("window(1073741824)"),
            "test.attn:2:54: error: window size must be below 2^30 "
            "(1073741824), got integer 1073741824; see Limits in docs/dsl.md");
  EXPECT_EQ(maskOf("window(1073741823)"),
            "(and (lt (sub q k) 1073741823) (lt (sub k q) 1073741823))");
  EXPECT_EQ(maskOf("causal(1)").substr(0, 44),
            "test.attn:2:47: error: unknown mask 'causal'");
}

/// The canonical score expression of a one-block file, or its first error.
std::string scoreOf(const std::string &mods) {
  Snippet snippet("const c = 30;\nattention a { heads = 2; head_dim = 8; "
                  "score_mod = " +
                  mods + "; }");
  auto unit = snippet.analyze();
  if (!unit)
    return snippet.firstLine();
  const auto &fn = unit->attentions[0]->scoreFn;
  return fn ? fn->canonical() : "none";
}

TEST(Sema, ScoreModifiersApplyInOrder) {
  // Each modifier sees the score the ones before it made.
  EXPECT_EQ(scoreOf("[alibi, softcap(30), bias]"),
            "(add (mul (float 30) (tanh (div (sub s (mul (alibi_slope h 2) "
            "(abs (sub q k)))) (float 30)))) (bias_at))");
  EXPECT_EQ(scoreOf("[bias, score(x, b, h, q, k) { x * x }]"),
            "(mul (add s (bias_at)) (add s (bias_at)))");
  EXPECT_EQ(scoreOf("none"), "none");
}

TEST(Sema, NamedScoreModifiersAreTheirDefinitions) {
  // docs/dsl.md's definitions, written by hand: the prelude must agree.
  EXPECT_EQ(scoreOf("softcap(c)"),
            scoreOf("score(s, b, h, q, k) { 30.0 * tanh(s / 30.0) }"));
  EXPECT_EQ(scoreOf("softcap(2.5)"),
            scoreOf("score(x, b, h, q, k) { 2.5 * tanh(x / 2.5) }"));
  EXPECT_EQ(scoreOf("alibi"), scoreOf("score(s, b, hh, i, j) { s - "
                                      "alibi_slope(hh) * abs(i - j) }"));
  EXPECT_EQ(scoreOf("bias"),
            scoreOf("score(s, b, h, q, k) { s + bias(b, h, q, k) }"));
  // Arguments are checked against the modifier's row.
  EXPECT_EQ(scoreOf("softcap(0)"),
            "test.attn:2:60: error: softcap must be a positive number, got "
            "integer 0");
  EXPECT_EQ(scoreOf("softcap"),
            "test.attn:2:52: error: softcap needs its cap: softcap(30.0)");
  EXPECT_EQ(scoreOf("softcap(1, 2)"),
            "test.attn:2:52: error: softcap takes one cap: softcap(30.0)");
  EXPECT_EQ(scoreOf("[alibi, alibi]"),
            "test.attn:2:60: error: score modifier appears twice");
  EXPECT_EQ(scoreOf("alibi(2)").substr(0, 53),
            "test.attn:2:52: error: unknown score modifier 'alibi'");
  // The built-ins a score function can call read their own indices.
  EXPECT_EQ(scoreOf("score(s, b, h, q, k) { s + bias(b, h, k, q) }"),
            "test.attn:2:79: error: bias reads the bias input at the score's "
            "own element: bias(b, h, q, k)");
  EXPECT_EQ(scoreOf("score(s, b, h, q, k) { s * alibi_slope(0) }"),
            "test.attn:2:79: error: alibi_slope reads the score's own head: "
            "alibi_slope(h)");
}

TEST(Sema, LayersAndModelsResolveReferences) {
  Snippet snippet(R"(
    model m { d_model = 64; src_vocab = 10; tgt_vocab = 12;
              encoder = enc * 3; decoder = dec * 2; }
    encoder_layer enc { self_attention = s; feed_forward = ffn(128, gelu); }
    decoder_layer dec { self_attention = s; cross_attention = c;
                        feed_forward = ffn(128, relu, bias = false);
                        norm = pre; }
    attention s { heads = 4; }
    attention c { heads = 4; source = cross; }
  )");
  auto unit = snippet.analyze();
  ASSERT_TRUE(unit) << snippet.output();
  const ModelSpec &m = *unit->models.at(0);
  ASSERT_TRUE(m.encoder && m.decoder);
  EXPECT_EQ(m.encoder->count, 3);
  EXPECT_EQ(m.decoder->count, 2);
  EXPECT_EQ(m.encoder->layer->feedForward.activation, Activation::GELU);
  EXPECT_FALSE(m.decoder->layer->feedForward.bias);
  EXPECT_EQ(m.decoder->layer->norm, NormPlacement::Pre);
  EXPECT_EQ(m.decoder->layer->crossAttention->name, "c");
  EXPECT_EQ(resolvedHeadDim(*m.encoder->layer->selfAttention, m.dModel), 16);
}

TEST(Sema, ReportsEveryIndependentError) {
  Snippet snippet("attention a { heads = 0; head_dim = 8; }\n"
                  "attention b { heads = 4; kv_heads = 3; head_dim = 8; }\n");
  EXPECT_FALSE(snippet.analyze());
  std::string out = snippet.output();
  EXPECT_NE(out.find("test.attn:1:23: error: field 'heads' must be a positive "
                     "integer, got integer 0"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("test.attn:2:37: error: kv_heads (3) must divide heads "
                     "(4)"),
            std::string::npos)
      << out;
}

TEST(Sema, ActivationsAreF32OrBF16OnCPUs) {
  // dtype f16 used to be accepted for arm64 and cuda, though the runtime
  // refused every f16 model: nothing is declared that does not run.
  Snippet ok("target cuda, arm64;\ndtype f32;");
  EXPECT_TRUE(ok.analyze()) << ok.output();
  Snippet f16("target cuda, arm64;\ndtype f16;");
  EXPECT_FALSE(f16.analyze());
  EXPECT_EQ(f16.firstLine(),
            "test.attn:2:7: error: dtype f16 is not supported: activations are "
            "f32 or bf16; to store linear weights in f16, write "
            "'weights = f16;' in the model");
  Snippet bf16("target host, x86_64_avx2, arm64;\ndtype bf16;");
  std::unique_ptr<CompileUnit> unit = bf16.analyze();
  ASSERT_TRUE(unit) << bf16.output();
  EXPECT_EQ(unit->dtype, ElementType::BF16);
  Snippet gpu("target arm64, cuda;\ndtype bf16;");
  EXPECT_FALSE(gpu.analyze());
  EXPECT_EQ(gpu.firstLine(),
            "test.attn:2:7: error: dtype bf16 runs on CPU targets only, and "
            "target 'cuda' is a GPU; use dtype f32 for GPU targets");
  Snippet other("dtype f23;");
  EXPECT_FALSE(other.analyze());
  EXPECT_EQ(other.firstLine(), "test.attn:1:7: error: unknown dtype 'f23'; "
                               "expected f32 or bf16; did you mean 'f32'?");
}

TEST(Sema, FailedBlocksDoNotCascade) {
  Snippet snippet("attention a { heads = -1; }\n"
                  "encoder_layer l { self_attention = a; "
                  "feed_forward = ffn(8, relu); }\n");
  EXPECT_FALSE(snippet.analyze());
  std::string out = snippet.output();
  EXPECT_EQ(out.find("error:"), out.rfind("error:")) << "one error only:\n"
                                                     << out;
}

TEST(Sema, ErrorsStopAfterTheCap) {
  std::string source;
  for (int i = 0; i < 30; ++i)
    source += "attention a" + std::to_string(i) + " { heads = 0; }\n";
  Snippet snippet(source);
  EXPECT_FALSE(snippet.analyze());
  std::string out = snippet.output();
  size_t errors = 0;
  for (size_t at = out.find(": error: "); at != std::string::npos;
       at = out.find(": error: ", at + 1))
    ++errors;
  EXPECT_EQ(errors, Diagnostics::kMaxReportedErrors) << out;
  EXPECT_EQ(out.substr(out.size() - 33), "error: too many errors; stopping\n");
}

TEST(Sema, SizesAreBounded) {
  struct Case {
    const char *source, *message;
  };
  const Case cases[] = {
      {"attention a { heads = 8; kv_heads = 8192; head_dim = 8; }",
       "field 'kv_heads' must be at most 4096"},
      {"attention a { heads = 8; head_dim = 65537; }",
       "field 'head_dim' must be at most 65536"},
      {"attention a { heads = 8; head_dim = 8; scoring = additive(dim = "
       "16384); }",
       "dim * heads must be at most 65536"},
      {"attention a { heads = 64; d_model = 65536; }",
       "the Q/K/V projection of attention 'a' ((heads + 2 * kv_heads) * "
       "head_dim * d_model) has 12884901888 elements"},
      {"attention a { heads = 8; }\nencoder_layer l { self_attention = a; "
       "feed_forward = ffn(262144, relu); }\nmodel m { d_model = 4096; "
       "src_vocab = 8; encoder = l; }",
       "the feed-forward weight of layer 'l' (ffn dim * d_model) has "
       "1073741824 elements"},
      {"attention a { heads = 8; }\nencoder_layer l { self_attention = a; "
       "feed_forward = ffn(64, relu); }\nmodel m { d_model = 64; "
       "src_vocab = 16777217; encoder = l; }",
       "field 'src_vocab' must be at most 16777216"},
      {"attention a { heads = 8; }\nencoder_layer l { self_attention = a; "
       "feed_forward = ffn(64, relu); }\nmodel m { d_model = 1024; "
       "src_vocab = 8; max_len = 1048576; encoder = l; }",
       "max_len * d_model has 1073741824 elements"},
  };
  for (const Case &c : cases) {
    Snippet snippet(c.source);
    EXPECT_FALSE(snippet.analyze()) << c.source;
    EXPECT_NE(snippet.firstLine().find(c.message), std::string::npos)
        << snippet.output();
  }
  // The largest sizes pass.
  Snippet largest("attention a { heads = 4096; kv_heads = 4096; head_dim = "
                  "16; mask = window(1073741823); }");
  EXPECT_TRUE(largest.analyze()) << largest.output();
}

TEST(Sema, PredicateConstantsAreFoldedAndChecked) {
  auto firstError = [](const std::string &body) {
    Snippet snippet("const zero = 0;\nconst big = 1073741823;\n"
                    "attention a { heads = 2; head_dim = 8; mask = "
                    "predicate(b, h, q, k) { " +
                    body + " }; }");
    snippet.analyze();
    return snippet.firstLine();
  };
  EXPECT_EQ(firstError("k <= q"), "");
  EXPECT_EQ(firstError("k % (q + zero) == 0"), "") << "a varying divisor";
  EXPECT_EQ(firstError("k <= q + big"), "") << "2^30 - 1 fits";
  EXPECT_NE(firstError("k % (2 - 2) == 0").find("error: division by zero"),
            std::string::npos);
  EXPECT_NE(firstError("k < big + 1")
                .find("error: integer 1073741824 is too "
                      "large for a predicate"),
            std::string::npos);
  EXPECT_NE(firstError("k < -big - 1")
                .find("error: integer -1073741824 is "
                      "too large for a predicate"),
            std::string::npos);
  EXPECT_NE(firstError("min(k, 3 * big) < q")
                .find("error: integer "
                      "3221225469 is too large"),
            std::string::npos);
}

TEST(Sema, ConstantPredicatesAreFolded) {
  for (const char *body : {"true", "1 < 2", "n > 0", "!(n == 0) || false"}) {
    Snippet snippet(std::string("const n = 3;\nattention a { heads = 2; "
                                "head_dim = 8; mask = causal & "
                                "predicate(b, h, q, k) { ") +
                    body + " }; }");
    auto unit = snippet.analyze();
    ASSERT_TRUE(unit) << body << ": " << snippet.output();
    ASSERT_TRUE(unit->attentions[0]->mask.predicate);
    EXPECT_EQ(unit->attentions[0]->mask.predicate->canonical(), "(le k q)")
        << body << " keeps every key: the term is dropped";
  }
  Snippet never("attention a { heads = 2; head_dim = 8; mask = "
                "predicate(b, h, q, k) { 2 < 1 }; }");
  EXPECT_FALSE(never.analyze());
  EXPECT_EQ(never.firstLine(), "test.attn:1:73: error: predicate is always "
                               "false: every key is masked");
  Snippet varies("attention a { heads = 2; head_dim = 8; mask = "
                 "predicate(b, h, q, k) { q == q }; }");
  auto unit = varies.analyze();
  ASSERT_TRUE(unit) << varies.output();
  EXPECT_NE(unit->attentions[0]->mask.predicate, nullptr)
      << "a body that uses an index is left to the kernels";
}

TEST(Sema, TargetStringsAreValidated) {
  Snippet ok("target \"x86-64-linux-avx2\", \"host-cuda\";");
  EXPECT_TRUE(ok.analyze()) << ok.output();
  Snippet bad("target host, \"arm-64-linux-nosuchfeature\";");
  EXPECT_FALSE(bad.analyze());
  EXPECT_EQ(bad.firstLine(), "test.attn:1:14: error: 'arm-64-linux-"
                             "nosuchfeature' is not a valid Halide target "
                             "string");
}

} // namespace
