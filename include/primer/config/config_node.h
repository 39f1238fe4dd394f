#pragma once
// ConfigNode: typed, validated access to one YAML config. Every error names the file, the line and the
// dotted key path ("configs/x.yaml:12: model.d_model: expected an integer, got 'abc'"), and keys that
// nothing read are reported as unknown, with the closest known key as a hint.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "primer/core/error.h"

namespace YAML {
class Node;
}

namespace primer {

class ConfigError : public Error {
 public:
  using Error::Error;
};

class ConfigNode {
 public:
  static ConfigNode load_file(const std::string& path);
  static ConfigNode parse(const std::string& text, const std::string& source_name);

  // Applies "section.key=value" (value parsed as YAML) to this root node, creating sections as needed;
  // later reads see it as if the file said so. Malformed assignments are ConfigErrors.
  void apply_override(const std::string& assignment);
  // The whole tree as YAML (the resolved config a run writes next to its outputs).
  std::string dump() const;

  ConfigNode(const ConfigNode&);
  ConfigNode& operator=(const ConfigNode&);
  ~ConfigNode();

  bool has(const std::string& key) const;
  // A required mapping below this one.
  ConfigNode section(const std::string& key) const;
  // A required scalar, converted to T (std::int64_t, double, bool or std::string).
  template <class T>
  T get(const std::string& key) const;
  template <class T>
  T get_or(const std::string& key, const T& fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }
  // A required list of strings.
  std::vector<std::string> get_strings(const std::string& key) const;
  // A required list of mappings, one node per element (key paths "key[0]", "key[1]", ...).
  std::vector<ConfigNode> sections(const std::string& key) const;
  // Like fail(), at element `index` of the list `key` (its own line).
  [[noreturn]] void fail_item(const std::string& key, std::size_t index, const std::string& message) const;
  // One of the named choices; the error lists them all.
  template <class E>
  E choice(const std::string& key, const std::map<std::string, E>& choices, E fallback) const {
    if (!has(key)) return fallback;
    const std::string value = get<std::string>(key);
    const auto found = choices.find(value);
    if (found == choices.end()) fail(key, "'" + value + "' is not one of " + list_keys(choices));
    return found->second;
  }

  // Throws for the first key below this node that nothing has read.
  void reject_unknown_keys() const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  const std::string& source() const { return source_; }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  ConfigNode(std::unique_ptr<YAML::Node> node, std::string source, std::string path,
             std::shared_ptr<std::set<std::string>> read);
  template <class E>
  static std::string list_keys(const std::map<std::string, E>& choices) {
    std::string names;
    for (const auto& entry : choices) names += (names.empty() ? "" : ", ") + entry.first;
    return "{" + names + "}";
  }
  std::string location(const std::string& key) const;

  std::unique_ptr<YAML::Node> node_;
  std::string source_;
  std::string path_;
  std::shared_ptr<std::set<std::string>> read_;     // key paths whose values were taken
  std::shared_ptr<std::set<std::string>> queried_;  // key paths asked for, present or not (for hints)
};

}  // namespace primer
