//===- Tune.cpp - attnc tune and attnc tuning-db --------------------------===//
//
//   attnc tune model.attn [--target=host] [--tuning-db=tuning.json]
//              [--budget=300] [--jobs=2] [--threads=2]
//              [--lengths=128,512,50:700]
//   attnc tuning-db merge -o merged.json a.json b.json ...
//   attnc tuning-db show tuning.json
//
// tune measures candidate schedules of every kernel of a model on this
// machine (see schedules/include/attnc/Schedules/Tuner.h) and keeps every
// measurement in the database; attnc compile --tuning-db=... then uses the
// best correct parameters per kernel, target and shape class.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"
#include "attnc/Lowering/KernelTable.h"
#include "attnc/Schedules/Tuner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace cl = llvm::cl;
using namespace attnc;
using namespace attnc::schedules;

namespace {

cl::SubCommand tuneCommand("tune",
                           "Search schedule parameters for a model's kernels "
                           "on this machine");
cl::SubCommand dbCommand("tuning-db", "Merge or show tuning databases");

cl::opt<std::string> tuneInput(cl::Positional, cl::desc("<model.attn>"),
                               cl::Required, cl::sub(tuneCommand));
cl::opt<std::string> tuneTarget("target", cl::desc("Halide target or host"),
                                cl::init("host"), cl::sub(tuneCommand));
cl::opt<std::string> tuneDb("tuning-db", cl::desc("The database to extend"),
                            cl::init("tuning.json"), cl::sub(tuneCommand));
cl::opt<double> tuneBudget("budget",
                           cl::desc("Seconds for the whole search (300)"),
                           cl::init(300), cl::sub(tuneCommand));
cl::opt<unsigned> tuneJobs("jobs", cl::desc("Candidates compiled at once (1)"),
                           cl::init(1), cl::sub(tuneCommand));
cl::opt<int> tuneThreads("threads",
                         cl::desc("Threads when timing (default: all cores)"),
                         cl::init(0), cl::sub(tuneCommand));
cl::list<std::string>
    tuneLengths("lengths", cl::CommaSeparated,
                cl::desc("Sequence lengths (rows) to tune for, "
                         "queries:keys for cross-attention (128,512)"),
                cl::sub(tuneCommand));
cl::opt<std::string> tuneKernels("kernels",
                                 cl::desc("Only kernels whose name contains "
                                          "this text"),
                                 cl::sub(tuneCommand));
cl::opt<double> tuneTimeout("timeout",
                            cl::desc("Seconds per candidate before it is "
                                     "killed (120)"),
                            cl::init(120), cl::sub(tuneCommand));
cl::list<std::string>
    tuneVariants("variants", cl::CommaSeparated,
                 cl::desc("Only these shape classes: general, decode, gemv "
                          "(default: all)"),
                 cl::sub(tuneCommand));
cl::opt<int> tuneRecheck(
    "recheck",
    cl::desc("Search nothing: time the defaults against the database's "
             "choice at each length, alternately, N times each"),
    cl::init(0), cl::sub(tuneCommand));
cl::opt<bool> tuneQuiet("no-progress", cl::desc("No progress line"),
                        cl::sub(tuneCommand));

cl::opt<std::string> dbAction(cl::Positional, cl::desc("merge|show"),
                              cl::Required, cl::sub(dbCommand));
cl::list<std::string> dbFiles(cl::Positional, cl::desc("<database.json>..."),
                              cl::OneOrMore, cl::sub(dbCommand));
cl::opt<std::string> dbOutput("o", cl::desc("merge: the merged database"),
                              cl::sub(dbCommand));

int printRecheck(const std::vector<kernels::KernelSpec> &kernels,
                 const TuneOptions &options) {
  std::vector<RecheckRow> rows;
  try {
    rows = recheck(kernels, options, tuneRecheck);
  } catch (const std::exception &e) {
    return driver::fail(e.what());
  }
  llvm::outs() << "\n| kernel | shape | function | default ms | tuned ms | "
                  "speedup | failed |\n|---|---|---|---:|---:|---:|---:|\n";
  for (const RecheckRow &r : rows) {
    char row[640];
    std::snprintf(
        row, sizeof(row), "| %s | %s | %s | %.4f | %.4f | %.2fx | %d |\n",
        r.kernel.c_str(), r.shape.c_str(), r.variant.c_str(), r.defaultMs,
        r.tunedMs,
        std::isfinite(r.tunedMs) && r.tunedMs > 0 ? r.defaultMs / r.tunedMs
                                                  : 0.0,
        r.failed);
    llvm::outs() << row;
  }
  llvm::outs() << "\nmedians of " << tuneRecheck
               << " alternating measurements each; nothing written to "
               << options.dbPath << "\n";
  return 0;
}

int runTune() {
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      driver::loadOptimizedModule(tuneInput, context, sourceMgr);
  if (!module)
    return 1;
  mlir::FailureOr<std::vector<kernels::KernelSpec>> specs =
      collectKernelSpecs(*module);
  if (mlir::failed(specs))
    return 1;
  std::vector<kernels::KernelSpec> selected;
  for (const kernels::KernelSpec &spec : *specs)
    if (spec.name().find(tuneKernels) != std::string::npos)
      selected.push_back(spec);
  if (selected.empty())
    return driver::fail("no kernel of '" + tuneInput +
                        "' matches --kernels=" + tuneKernels);

  TuneOptions options;
  options.target = tuneTarget;
  options.dbPath = tuneDb;
  options.budgetSeconds = tuneBudget;
  options.jobs = std::max(1u, unsigned(tuneJobs));
  options.threads = tuneThreads;
  if (!tuneLengths.empty())
    options.lengths.clear();
  for (const std::string &text : tuneLengths) {
    std::optional<TuneLength> length = parseTuneLength(text);
    if (!length)
      return driver::fail("--lengths takes positive lengths such as 128 or "
                          "50:700 (queries:keys), not '" +
                          text + "'");
    options.lengths.push_back(*length);
  }
  for (const std::string &variant : tuneVariants) {
    if (variant != "general" && variant != "decode" && variant != "gemv")
      return driver::fail("--variants takes general, decode or gemv, not '" +
                          variant + "'");
    options.variants.push_back(variant);
  }
  options.timeoutSeconds = tuneTimeout;
  options.progressBar = !tuneQuiet;
  options.log = [](const std::string &line) {
    llvm::errs() << "attnc tune: " << line << "\n";
  };
  if (tuneRecheck > 0)
    return printRecheck(selected, options);
  std::vector<TuneSummary> summaries;
  try {
    summaries = tune(selected, options);
  } catch (const std::exception &e) {
    return driver::fail(e.what());
  }
  llvm::outs() << "\n| kernel | variant | shape | default ms | tuned ms | "
                  "speedup | measured | failed |\n"
                  "|---|---|---|---:|---:|---:|---:|---:|\n";
  for (const TuneSummary &s : summaries) {
    char row[640];
    std::snprintf(
        row, sizeof(row), "| %s | %s | %s | %.4f | %.4f | %.2fx | %d | %d |\n",
        s.kernel.c_str(),
        s.shapeClass.empty() ? "general" : s.shapeClass.c_str(),
        s.shape.empty() ? "all lengths" : s.shape.c_str(), s.defaultMs,
        s.bestMs,
        std::isfinite(s.bestMs) && s.bestMs > 0 ? s.defaultMs / s.bestMs : 0.0,
        s.tried, s.failed);
    llvm::outs() << row;
  }
  llvm::outs() << "\nmeasurements in " << tuneDb
               << "; use them with: attnc compile --tuning-db=" << tuneDb
               << " ...\n";
  return 0;
}

int runTuningDb() {
  try {
    if (dbAction == "merge") {
      if (dbOutput.empty())
        return driver::fail("tuning-db merge needs -o <merged.json>");
      TuningDB merged = TuningDB::load(dbOutput);
      for (const std::string &file : dbFiles)
        merged.merge(TuningDB::load(file));
      merged.save(dbOutput);
      llvm::outs() << dbOutput << ": " << merged.all().size()
                   << " measurements\n";
      return 0;
    }
    if (dbAction == "show") {
      for (const std::string &file : dbFiles) {
        TuningDB db = TuningDB::load(file);
        std::map<std::string, std::pair<int, int>> counts;
        for (const Measurement &m : db.all()) {
          auto &c = counts[m.name + " " + m.shapeClass + " on " + m.target +
                           " (" + m.machine + ")"];
          c.first += 1;
          c.second += m.status == "ok";
        }
        llvm::outs() << file << ": " << db.all().size() << " measurements\n";
        for (const auto &[key, c] : counts)
          llvm::outs() << "  " << key << ": " << c.first << " measured, "
                       << c.second << " ok\n";
      }
      return 0;
    }
  } catch (const std::exception &e) {
    return driver::fail(e.what());
  }
  return driver::fail("tuning-db takes merge or show, not '" + dbAction + "'");
}

} // namespace

int attnc::driver::runTuningCommands() {
  if (tuneCommand)
    return runTune();
  if (dbCommand)
    return runTuningDb();
  return -1;
}
