//===- TuningDB.cpp - Measured schedule parameters, kept as JSON ----------===//

#include "attnc/Schedules/TuningDB.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

using namespace attnc::schedules;
using nlohmann::json;

TuningDB TuningDB::load(const std::string &path) {
  TuningDB db;
  std::ifstream in(path);
  if (!in)
    return db;
  json j;
  try {
    j = json::parse(in);
    if (j.at("format") != "attnc-tuning-db")
      throw std::runtime_error("not an attnc tuning database");
    for (const json &e : j.at("entries")) {
      Measurement m;
      m.kernel = e.at("kernel");
      m.name = e.value("name", "");
      m.target = e.at("target");
      m.machine = e.at("machine");
      m.shape = e.at("shape");
      m.shapeClass = e.value("shape_class", "");
      std::string family = e.at("family");
      m.params = ScheduleParams::fromJSON(family, e.at("params").dump());
      m.status = e.at("status");
      m.milliseconds = e.value("ms", 0.0);
      m.detail = e.value("detail", "");
      m.confirmed = e.value("confirmed", false);
      db.entries.push_back(std::move(m));
    }
  } catch (const std::exception &e) {
    throw std::runtime_error("tuning database '" + path +
                             "' is unreadable: " + e.what());
  }
  return db;
}

void TuningDB::save(const std::string &path) const {
  json list = json::array();
  for (const Measurement &m : entries) {
    json e = {{"kernel", m.kernel},
              {"name", m.name},
              {"family", m.params.familyName()},
              {"target", m.target},
              {"machine", m.machine},
              {"shape", m.shape},
              {"shape_class", m.shapeClass},
              {"params", json::parse(m.params.toJSON())},
              {"status", m.status}};
    if (m.status == "ok")
      e["ms"] = m.milliseconds;
    if (!m.detail.empty())
      e["detail"] = m.detail;
    if (m.confirmed)
      e["confirmed"] = true;
    list.push_back(e);
  }
  json j = {{"format", "attnc-tuning-db"}, {"version", 1}, {"entries", list}};
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(1) << "\n";
    if (!out)
      throw std::runtime_error("cannot write tuning database '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot replace tuning database '" + path + "'");
}

static std::string keyOf(const Measurement &m) {
  return m.kernel + "|" + m.target + "|" + m.machine + "|" + m.shape + "|" +
         m.shapeClass + "|" + m.params.toJSON();
}

void TuningDB::merge(const TuningDB &other) {
  std::set<std::string> seen;
  for (const Measurement &m : entries)
    seen.insert(keyOf(m));
  for (const Measurement &m : other.entries)
    if (seen.insert(keyOf(m)).second)
      entries.push_back(m);
}

const Measurement *TuningDB::find(const std::string &kernel,
                                  const std::string &target,
                                  const std::string &machine,
                                  const std::string &shape,
                                  const std::string &shapeClass,
                                  const ScheduleParams &params) const {
  for (const Measurement &m : entries)
    if (m.kernel == kernel && m.target == target && m.machine == machine &&
        m.shape == shape && m.shapeClass == shapeClass && m.params == params)
      return &m;
  return nullptr;
}

bool TuningDB::choosable(const Measurement &m) const {
  if (m.status != "ok")
    return false;
  if (m.confirmed)
    return true;
  for (const Measurement &other : entries)
    if (other.confirmed && other.kernel == m.kernel &&
        other.target == m.target && other.machine == m.machine &&
        other.shapeClass == m.shapeClass)
      return false;
  return true;
}

std::optional<ScheduleParams>
TuningDB::best(const std::string &kernel, const std::string &target,
               const std::string &machine,
               const std::string &shapeClass) const {
  for (bool sameMachine : {true, false}) {
    std::set<std::string> shapes;
    std::map<std::string, std::pair<double, std::set<std::string>>> totals;
    std::map<std::string, ScheduleParams> byKey;
    for (const Measurement &m : entries) {
      if (m.kernel != kernel || m.target != target ||
          m.shapeClass != shapeClass || (sameMachine && m.machine != machine))
        continue;
      shapes.insert(m.shape);
      if (!choosable(m))
        continue;
      std::string key = m.params.toJSON();
      totals[key].first += m.milliseconds;
      totals[key].second.insert(m.shape);
      byKey[key] = m.params;
    }
    std::optional<ScheduleParams> best;
    double bestTime = 0;
    for (const auto &[key, total] : totals)
      if (total.second.size() == shapes.size() &&
          (!best || total.first < bestTime)) {
        best = byKey[key];
        bestTime = total.first;
      }
    if (best)
      return best;
  }
  return std::nullopt;
}

std::string attnc::schedules::machineFingerprint() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU", flags;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0 && model == "unknown CPU")
      model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0 && flags.empty()) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::string word;
      for (const char *feature : {"avx2", "avx512f", "fma", "asimd", "sve"})
        if ((" " + line + " ").find(std::string(" ") + feature + " ") !=
            std::string::npos)
          flags += (flags.empty() ? "" : " ") + std::string(feature);
    }
  }
  return model + " | " + flags + " | " +
         std::to_string(std::thread::hardware_concurrency()) + " cores";
}
