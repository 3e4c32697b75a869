//===- Measure.cpp - Time one candidate in a child process ----------------===//

#include "Measure.h"
#include "attnc/Lowering/LinearWeights.h"
#include "attnc/Reference/Reference.h"
#include "attnc/Schedules/Build.h"

#include "Halide.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <variant>

using namespace attnc;
using namespace attnc::schedules;
namespace k = attnc::kernels;

std::string attnc::schedules::describeShape(const Shape &shape) {
  std::string text;
  for (const auto &[name, value] : shape)
    text += (text.empty() ? "" : " ") + name + "=" + std::to_string(value);
  return text;
}

namespace {

/// The inputs and outputs of one run, dense, in signature order.
struct Tensors {
  std::vector<Halide::Buffer<>> inputs, outputs;
  std::vector<std::vector<float>> f32; ///< Input data, for the reference.
  std::vector<std::vector<int32_t>> i32;
};

std::vector<int64_t> dimsOf(const k::ArgumentSig &arg, const Shape &shape) {
  std::vector<int64_t> dims;
  for (const k::Dim &d : arg.dims)
    dims.push_back(d.extent >= 0 ? d.extent : shape.at(d.symbol));
  return dims;
}

/// The Halide type of a signature dtype other than i32.
Halide::Type storedType(const std::string &dtype) {
  if (dtype == "bf16")
    return Halide::BFloat(16);
  if (dtype == "f16")
    return Halide::Float(16);
  if (dtype == "i8")
    return Halide::Int(8);
  return Halide::Float(32);
}

/// Stores `value` (in [-1, 1)) as element `i` of a bf16, f16 or int8
/// buffer (int8: scaled to [-127, 127]); returns the value stored.
float storeNarrow(Halide::Buffer<> &buffer, size_t i, float value) {
  void *data = buffer.data();
  if (buffer.type() == Halide::Int(8)) {
    int8_t q = int8_t(std::lround(value * 127.0f));
    static_cast<int8_t *>(data)[i] = q;
    return float(q);
  }
  bool bf16 = buffer.type() == Halide::BFloat(16);
  uint16_t bits = bf16 ? k::floatToBFloat16(value) : k::floatToFloat16(value);
  static_cast<uint16_t *>(data)[i] = bits;
  return bf16 ? k::bfloat16ToFloat(bits) : k::float16ToFloat(bits);
}

/// Column slices of one f32 tensor [batch, length, sum of widths], one per
/// named argument, each translated to start at column 0: the views a
/// runtime step passes when it slices a fused projection.
class PackedColumns {
public:
  PackedColumns(const k::KernelSpec &spec, const Shape &shape,
                InputLayout layout) {
    // bf16 activations are timed dense (their inputs are filled as one
    // dense run of narrow values).
    if (layout == InputLayout::Dense || spec.dtype != k::DType::F32)
      return;
    std::vector<std::string> names = {"key", "value"};
    if (layout == InputLayout::PackedQKV)
      names.insert(names.begin(), "query");
    int width = 0;
    std::vector<std::pair<std::string, std::vector<int64_t>>> members;
    for (const k::ArgumentSig &arg : spec.signature())
      if (std::find(names.begin(), names.end(), arg.name) != names.end()) {
        members.push_back({arg.name, dimsOf(arg, shape)});
        width += int(members.back().second[2]);
      }
    const std::vector<int64_t> &first = members.front().second;
    Halide::Buffer<float> packed(width, int(first[1]), int(first[0]));
    int column = 0;
    for (const auto &[name, dims] : members) {
      // A view of the same allocation, its columns numbered from 0.
      Halide::Buffer<float> view(packed.get()
                                     ->cropped(0, column, int(dims[2]))
                                     .translated(0, -column));
      views.emplace(name, Halide::Buffer<>(view));
      column += int(dims[2]);
    }
  }

  /// The view for argument `name`, or none.
  std::optional<Halide::Buffer<>> viewOf(const std::string &name) const {
    auto it = views.find(name);
    if (it == views.end())
      return std::nullopt;
    return it->second;
  }

private:
  std::map<std::string, Halide::Buffer<>> views;
};

/// Stores `values` (dense, innermost last) into the f32 `buffer`, which
/// may be a strided view.
void storeF32(Halide::Buffer<> &buffer, const std::vector<float> &values) {
  if (buffer.dimensions() != 3) {
    std::copy(values.begin(), values.end(),
              static_cast<float *>(buffer.data()));
    return;
  }
  float *base = static_cast<float *>(buffer.data());
  size_t i = 0;
  for (int b = 0; b < buffer.dim(2).extent(); ++b)
    for (int l = 0; l < buffer.dim(1).extent(); ++l)
      for (int c = 0; c < buffer.dim(0).extent(); ++c)
        base[b * buffer.dim(2).stride() + l * buffer.dim(1).stride() +
             c * buffer.dim(0).stride()] = values[i++];
}

Tensors makeTensors(const k::KernelSpec &spec, const Shape &shape,
                    InputLayout layout, uint32_t seed) {
  Tensors t;
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  int64_t vocab = 1;
  if (auto *e = std::get_if<k::EmbeddingSpec>(&spec.family))
    vocab = e->vocab;
  PackedColumns packed(spec, shape, layout);
  for (const k::ArgumentSig &arg : spec.signature()) {
    if (arg.kind == k::ArgumentSig::Kind::Scalar)
      continue;
    std::vector<int64_t> dims = dimsOf(arg, shape);
    std::vector<int> extents(dims.rbegin(), dims.rend()); // innermost first
    bool isInt = arg.dtype == "i32";
    std::optional<Halide::Buffer<>> view =
        arg.kind == k::ArgumentSig::Kind::Input ? packed.viewOf(arg.name)
                                                : std::nullopt;
    Halide::Buffer<> buffer =
        view ? *view
             : Halide::Buffer<>(isInt ? Halide::Int(32) : storedType(arg.dtype),
                                extents);
    if (arg.kind == k::ArgumentSig::Kind::Output) {
      t.outputs.push_back(buffer);
      continue;
    }
    size_t count = buffer.number_of_elements();
    if (arg.dtype != "f32" && !isInt) {
      // A linear weight stored in fewer bytes: values it holds exactly
      // (int8: the integers), kept as f32 for the reference.
      std::vector<float> values(count);
      for (size_t i = 0; i < count; ++i)
        values[i] = storeNarrow(buffer, i, uniform(random));
      t.f32.push_back(values);
      t.inputs.push_back(buffer);
      continue;
    }
    if (isInt) {
      std::vector<int32_t> values(count);
      for (size_t i = 0; i < count; ++i)
        if (arg.name == "kv_lengths")
          values[i] = int32_t(
              std::max<int64_t>(1, shape.at("kv_len") - int64_t(i) * 3));
        else if (arg.name == "segment_ids") // Five packed sequences.
          values[i] =
              int32_t(int64_t(i) % shape.at("kv_len") * 5 / shape.at("kv_len"));
        else
          values[i] = int32_t((i * 7 + 3) % size_t(vocab));
      std::copy(values.begin(), values.end(),
                static_cast<int32_t *>(buffer.data()));
      t.i32.push_back(values);
    } else {
      std::vector<float> values(count);
      for (float &v : values)
        v = uniform(random);
      storeF32(buffer, values);
      t.f32.push_back(values);
    }
    t.inputs.push_back(buffer);
  }
  return t;
}

/// The reference outputs of `spec` on `t`'s inputs; `roundsInput`: a linear
/// kernel that rounds its input to bf16 (usesBF16DotProduct).
std::vector<std::vector<float>> referenceOf(const k::KernelSpec &spec,
                                            const Tensors &t,
                                            const Shape &shape,
                                            bool roundsInput) {
  const auto &f = t.f32;
  auto rows = [&] { return shape.at("rows"); };
  if (auto *s = std::get_if<k::LinearSpec>(&spec.family)) {
    // The kernel reads the weight packed in panels; the reference reads
    // PyTorch's [out, in] layout, the same values.
    const int64_t width = k::kLinearPanelWidth;
    // An int8 weight is q * weight_scale (input 2).
    bool scaled = s->weights == k::WeightType::I8;
    std::vector<float> weight(size_t(s->out * s->in));
    for (int64_t o = 0; o < s->out; ++o)
      for (int64_t i = 0; i < s->in; ++i)
        weight[o * s->in + i] =
            f[1][((o / width) * s->in + i) * width + o % width] *
            (scaled ? f[2][o] : 1.0f);
    std::vector<float> input = f[0];
    if (roundsInput)
      for (float &v : input)
        v = k::bfloat16ToFloat(k::floatToBFloat16(v));
    return {
        reference::linear(*s, input, rows(), weight,
                          s->bias ? f[scaled ? 3 : 2] : std::vector<float>())};
  }
  if (auto *s = std::get_if<k::LayerNormSpec>(&spec.family))
    return {reference::layerNorm(*s, f[0], s->residual ? &f[1] : nullptr,
                                 rows(), f[s->residual ? 2 : 1],
                                 f[s->residual ? 3 : 2])};
  if (auto *s = std::get_if<k::SoftmaxSpec>(&spec.family))
    return {reference::softmax(*s, f[0], rows())};
  if (auto *s = std::get_if<k::EmbeddingSpec>(&spec.family))
    return {reference::embedding(*s, t.i32[0], shape.at("batch"),
                                 shape.at("length"), f[0], 0,
                                 s->positionRows ? &f[1] : nullptr)};
  if (std::get_if<k::AddSpec>(&spec.family)) {
    std::vector<float> sum(f[0].size());
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] = f[0][i] + f[1][i];
    return {sum};
  }
  const auto &s = std::get<k::AttentionSpec>(spec.family);
  reference::AttentionExtras extras;
  size_t next = 3;
  if (s.keyPadding)
    extras.kvLengths = t.i32.at(0);
  if (s.segments)
    extras.segmentIds = t.i32.at(s.keyPadding ? 1 : 0);
  if (s.readsBias())
    extras.bias = f.at(next++);
  if (s.additive)
    extras.scoreWeight = f.at(next++);
  reference::AttentionResult r =
      reference::attention(s, f[0], f[1], f[2], shape.at("batch"),
                           shape.at("q_len"), shape.at("kv_len"), extras);
  std::vector<std::vector<float>> outputs = {r.output};
  if (s.probs != k::Probs::None)
    outputs.push_back(r.probs);
  return outputs;
}

/// Copies of a linear layer's weights (input 1) that together exceed the
/// caches, so that timed runs can read them cold, as a model does: it
/// streams every layer's weights from memory once per step, and a decoding
/// GEMV is bound by that stream, not by arithmetic. Empty for other families.
std::vector<Halide::Buffer<>> coldWeightCopies(const k::KernelSpec &spec,
                                               const Tensors &t) {
  std::vector<Halide::Buffer<>> copies;
  if (!std::holds_alternative<k::LinearSpec>(spec.family))
    return copies;
  const size_t bytes = t.inputs[1].size_in_bytes(), total = size_t(64) << 20;
  for (size_t i = 0; i == 0 || i * bytes < total; ++i)
    copies.push_back(t.inputs[1].copy());
  return copies;
}

/// Runs the compiled pipeline on `t`.
void run(schedules::BuiltKernel &built, Tensors &t,
         const Halide::Target &target) {
  Halide::ParamMap params;
  for (size_t i = 0; i < built.images.size(); ++i)
    params.set(built.images[i], t.inputs[i]);
  for (Halide::Param<int32_t> &scalar : built.scalars)
    params.set(scalar, 0);
  Halide::Realization outputs(t.outputs);
  built.pipeline.realize(outputs, target, params);
}

/// The small odd shape checked against the reference, in `layout` (a
/// self-attention's packed tensor has one length).
Shape checkedShape(const k::KernelSpec &spec, const std::string &shapeClass,
                   InputLayout layout) {
  if (std::holds_alternative<k::AttentionSpec>(spec.family))
    return {{"batch", 2},
            {"q_len", shapeClass == "decode"             ? 3
                      : layout == InputLayout::PackedQKV ? 77
                                                         : 67},
            {"kv_len", 77}};
  if (std::holds_alternative<k::EmbeddingSpec>(spec.family))
    return {{"batch", 2}, {"length", 9}};
  // 7 gemv rows: row tiles, the last one shifted inward (8-row tiles: the
  // one-row path).
  return {{"rows", shapeClass == "gemv" ? 7 : 37}};
}

/// "" if the pipeline matches the reference on a small shape in `layout`,
/// else what went wrong.
std::string checkAgainstReference(schedules::BuiltKernel &built,
                                  const Candidate &c, InputLayout layout,
                                  const Halide::Target &target) {
  Shape shape = checkedShape(c.spec, c.shapeClass, layout);
  Tensors check = makeTensors(c.spec, shape, layout, 11);
  run(built, check, target);
  bool roundsInput = false;
  if (auto *s = std::get_if<k::LinearSpec>(&c.spec.family))
    roundsInput = k::usesBF16DotProduct(*s, c.spec.dtype, target.to_string(),
                                        c.shapeClass);
  std::vector<std::vector<float>> expected =
      referenceOf(c.spec, check, shape, roundsInput);
  for (size_t o = 0; o < expected.size(); ++o) {
    // bf16 outputs (dtype bf16) widened; their rounding is within 2^-9 of
    // each value, so they get a tolerance above it.
    const Halide::Buffer<> &output = check.outputs[o];
    bool bf16 = output.type() == Halide::BFloat(16);
    std::vector<float> got(expected[o].size());
    for (size_t i = 0; i < got.size(); ++i)
      got[i] = bf16 ? k::bfloat16ToFloat(
                          static_cast<const uint16_t *>(output.data())[i])
                    : static_cast<const float *>(output.data())[i];
    double tolerance = bf16 ? 1e-2 : 1e-4;
    double scale = 1e-6, error = 0;
    for (size_t i = 0; i < expected[o].size(); ++i) {
      if (!std::isfinite(got[i]))
        return "non-finite output";
      scale = std::max(scale, double(std::fabs(expected[o][i])));
      error = std::max(error, double(std::fabs(got[i] - expected[o][i])));
    }
    if (error / scale > tolerance)
      return "relative error " + std::to_string(error / scale) + " on " +
             describeShape(shape);
  }
  return "";
}

/// The median time of `built` on `t`, over 5 to 51 runs within 0.3 s,
/// after 50 ms of untimed runs: the child waited while others compiled or
/// ran, and its threads and cores take that long to come back to speed
/// (docs/performance.md, "Runs without copies").
double timeRuns(schedules::BuiltKernel &built, Tensors &t,
                const std::vector<Halide::Buffer<>> &cold,
                const Halide::Target &target) {
  auto warmUp = std::chrono::steady_clock::now();
  do
    run(built, t, target);
  while (std::chrono::steady_clock::now() - warmUp <
         std::chrono::milliseconds(50));
  std::vector<double> times;
  auto begin = std::chrono::steady_clock::now();
  while (times.size() < 5 ||
         (times.size() < 51 && std::chrono::steady_clock::now() - begin <
                                   std::chrono::milliseconds(300))) {
    if (!cold.empty())
      t.inputs[1] = cold[times.size() % cold.size()];
    auto start = std::chrono::steady_clock::now();
    run(built, t, target);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// The child: everything about one candidate. Never returns.
[[noreturn]] void child(const Candidate &c, const std::string &targetText,
                        int threads, int readyFd, int goFd,
                        const std::string &resultPath) {
  auto finish = [&](const std::string &status, const std::vector<double> &ms,
                    const std::string &detail) {
    std::ofstream out(resultPath);
    out << status << "\n";
    for (double t : ms)
      out << t << " ";
    out << "\n" << detail << "\n";
    out.close();
    _exit(0);
  };
  try {
    if (threads > 0)
      setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
    Halide::Target target = targetText == "host" ? Halide::get_host_target()
                                                 : Halide::Target(targetText);
    schedules::BuiltKernel built =
        buildKernel(c.spec, c.params, target, c.shapeClass);
    built.pipeline.compile_jit(target);

    std::vector<InputLayout> layouts;
    for (const Shape &shape : c.timed) {
      InputLayout layout = layoutFor(c.spec, c.shapeClass, shape);
      if (std::find(layouts.begin(), layouts.end(), layout) == layouts.end())
        layouts.push_back(layout);
    }
    for (InputLayout layout : layouts) {
      std::string wrong = checkAgainstReference(built, c, layout, target);
      if (!wrong.empty())
        finish("wrong", {}, wrong);
    }

    std::vector<Tensors> timed;
    std::vector<std::vector<Halide::Buffer<>>> cold;
    for (const Shape &shape : c.timed) {
      timed.push_back(makeTensors(c.spec, shape,
                                  layoutFor(c.spec, c.shapeClass, shape), 5));
      cold.push_back(coldWeightCopies(c.spec, timed.back()));
      run(built, timed.back(), target); // warm-up
    }
    char token = 'r';
    if (write(readyFd, &token, 1) != 1 || read(goFd, &token, 1) != 1)
      _exit(1);
    std::vector<double> medians;
    for (size_t s = 0; s < timed.size(); ++s)
      medians.push_back(timeRuns(built, timed[s], cold[s], target));
    finish("ok", medians, "");
  } catch (const std::exception &e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    finish("failed", {}, what);
  }
  _exit(1);
}

Outcome readResult(const std::string &path, int status) {
  Outcome outcome;
  std::ifstream in(path);
  std::string ms;
  if (std::getline(in, outcome.status) && std::getline(in, ms)) {
    std::istringstream times(ms);
    for (double t; times >> t;)
      outcome.milliseconds.push_back(t);
    std::getline(in, outcome.detail);
  } else {
    outcome.status = "failed";
    outcome.detail = WIFSIGNALED(status) ? "died with signal " +
                                               std::to_string(WTERMSIG(status))
                                         : "exited without a result";
  }
  std::remove(path.c_str());
  return outcome;
}

/// The last lines of a child's log, as " | line | line", or "".
std::string logTail(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(line);
  std::string tail;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size();
       ++i)
    tail += " | " + lines[i];
  return tail;
}

} // namespace

InputLayout attnc::schedules::layoutFor(const k::KernelSpec &spec,
                                        const std::string &shapeClass,
                                        const Shape &shape) {
  if (!std::holds_alternative<k::AttentionSpec>(spec.family) ||
      shapeClass == "decode")
    return InputLayout::Dense;
  return shape.at("q_len") == shape.at("kv_len") ? InputLayout::PackedQKV
                                                 : InputLayout::PackedKeyValue;
}

std::vector<Outcome>
attnc::schedules::measure(const std::vector<Candidate> &candidates,
                          const std::string &target, unsigned jobs, int threads,
                          double timeoutSeconds) {
  std::vector<Outcome> outcomes(candidates.size());
  auto deadlineAfter = [&](double seconds) {
    return std::chrono::steady_clock::now() +
           std::chrono::milliseconds(int64_t(seconds * 1000));
  };
  for (size_t first = 0; first < candidates.size(); first += jobs) {
    size_t last = std::min(candidates.size(), first + jobs);
    struct Child {
      pid_t pid = -1;
      int ready = -1, go = -1;
      std::string result, log;
      enum class State { Compiling, Ready, Exited } state = State::Compiling;
    };
    std::vector<Child> children(last - first);
    // Compile phase: up to `jobs` children at once.
    for (size_t i = first; i < last; ++i) {
      int readyPipe[2], goPipe[2];
      if (pipe(readyPipe) || pipe(goPipe)) {
        outcomes[i].detail = "pipe failed";
        continue;
      }
      Child &c = children[i - first];
      std::string stem = "/tmp/attnc-tune-" + std::to_string(getpid()) + "-" +
                         std::to_string(i);
      c.result = stem + ".result";
      c.log = stem + ".log";
      pid_t pid = fork();
      if (pid == 0) {
        close(readyPipe[0]);
        close(goPipe[1]);
        // Halide's and the autoscheduler's chatter goes to a log that the
        // parent quotes when the candidate fails.
        int log = open(c.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log >= 0) {
          dup2(log, STDOUT_FILENO);
          dup2(log, STDERR_FILENO);
          close(log);
        }
        child(candidates[i], target, threads, readyPipe[1], goPipe[0],
              c.result);
      }
      close(readyPipe[1]);
      close(goPipe[0]);
      c.pid = pid;
      c.ready = readyPipe[0];
      c.go = goPipe[1];
    }
    auto deadline = deadlineAfter(timeoutSeconds);
    for (Child &c : children) {
      if (c.pid <= 0)
        continue;
      int remaining = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count());
      pollfd fd = {c.ready, POLLIN, 0};
      if (remaining <= 0 || poll(&fd, 1, remaining) <= 0)
        continue; // Still compiling at the deadline.
      char token;
      // EOF instead of the token: the child finished (failed) early.
      c.state = read(c.ready, &token, 1) == 1 ? Child::State::Ready
                                              : Child::State::Exited;
    }
    // Timing phase: one child at a time.
    for (size_t i = first; i < last; ++i) {
      Child &c = children[i - first];
      if (c.pid <= 0)
        continue;
      int status = 0;
      if (c.state == Child::State::Ready) {
        char token = 'g';
        if (write(c.go, &token, 1) != 1)
          c.state = Child::State::Exited;
      }
      bool exited = false;
      if (c.state == Child::State::Exited) {
        waitpid(c.pid, &status, 0);
        exited = true;
      }
      auto timingDeadline = deadlineAfter(
          c.state == Child::State::Ready ? timeoutSeconds : 0.001);
      while (!exited && std::chrono::steady_clock::now() < timingDeadline) {
        if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
          exited = true;
          break;
        }
        usleep(2000);
      }
      if (!exited && waitpid(c.pid, &status, WNOHANG) == c.pid)
        exited = true;
      if (!exited) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        std::remove(c.result.c_str());
        outcomes[i].status = "timeout";
        outcomes[i].detail =
            "no result within " + std::to_string(int(timeoutSeconds)) + " s";
      } else {
        outcomes[i] = readResult(c.result, status);
      }
      if (outcomes[i].status != "ok")
        outcomes[i].detail += logTail(c.log);
      std::remove(c.log.c_str());
      close(c.ready);
      close(c.go);
    }
  }
  return outcomes;
}
