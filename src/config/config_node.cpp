#include "primer/config/config_node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace primer {
namespace {

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    default: return "'" + node.Scalar() + "'";
  }
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, std::int64_t>)
    return "an integer";
  else if constexpr (std::is_same_v<T, double>)
    return "a number";
  else if constexpr (std::is_same_v<T, bool>)
    return "true or false";
  else
    return "a string";
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

ConfigNode::ConfigNode(std::unique_ptr<YAML::Node> node, std::string source, std::string path,
                       std::shared_ptr<std::set<std::string>> read)
    : node_(std::move(node)),
      source_(std::move(source)),
      path_(std::move(path)),
      read_(std::move(read)),
      queried_(std::make_shared<std::set<std::string>>()) {}

ConfigNode::ConfigNode(const ConfigNode& other)
    : node_(std::make_unique<YAML::Node>(*other.node_)),
      source_(other.source_),
      path_(other.path_),
      read_(other.read_),
      queried_(other.queried_) {}

ConfigNode& ConfigNode::operator=(const ConfigNode& other) {
  if (this != &other) {
    node_ = std::make_unique<YAML::Node>(*other.node_);
    source_ = other.source_;
    path_ = other.path_;
    read_ = other.read_;
    queried_ = other.queried_;
  }
  return *this;
}

ConfigNode::~ConfigNode() = default;

ConfigNode ConfigNode::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError(path + ": cannot open config file" +
                      (std::filesystem::exists(path) ? " (permission denied?)" : " (no such file)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

ConfigNode ConfigNode::parse(const std::string& text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& error) {
    throw ConfigError(
        fmt::format("{}:{}: YAML syntax error: {}", source_name, error.mark.line + 1, error.msg));
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(source_name + ": the top level must be a mapping of sections");
  return ConfigNode(std::make_unique<YAML::Node>(root), source_name, "",
                    std::make_shared<std::set<std::string>>());
}

std::string ConfigNode::location(const std::string& key) const {
  const YAML::Node child = (*node_)[key];
  const YAML::Mark mark = child.IsDefined() ? child.Mark() : node_->Mark();
  return mark.is_null() ? source_ : fmt::format("{}:{}", source_, mark.line + 1);
}

void ConfigNode::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(fmt::format("{}: {}: {}", location(key), key_path(key), message));
}

bool ConfigNode::has(const std::string& key) const {
  queried_->insert(key_path(key));
  const YAML::Node child = (*node_)[key];
  return child.IsDefined() && !child.IsNull();
}

ConfigNode ConfigNode::section(const std::string& key) const {
  if (!has(key)) fail(key, "missing section");
  const YAML::Node child = (*node_)[key];
  if (!child.IsMap()) fail(key, "expected a mapping, got " + kind_of(child));
  read_->insert(key_path(key));
  ConfigNode result(std::make_unique<YAML::Node>(child), source_, key_path(key), read_);
  result.queried_ = queried_;
  return result;
}

std::vector<std::string> ConfigNode::get_strings(const std::string& key) const {
  queried_->insert(key_path(key));
  const YAML::Node child = (*node_)[key];
  if (!child.IsDefined() || child.IsNull()) fail(key, "missing; expected a list of strings");
  if (!child.IsSequence()) fail(key, "expected a list of strings, got " + kind_of(child));
  read_->insert(key_path(key));
  std::vector<std::string> values;
  for (std::size_t i = 0; i < child.size(); ++i) {
    if (!child[i].IsScalar()) fail_item(key, i, "expected a string, got " + kind_of(child[i]));
    values.push_back(child[i].Scalar());
  }
  return values;
}

std::vector<ConfigNode> ConfigNode::sections(const std::string& key) const {
  queried_->insert(key_path(key));
  const YAML::Node child = (*node_)[key];
  if (!child.IsDefined() || child.IsNull()) fail(key, "missing; expected a list of mappings");
  if (!child.IsSequence()) fail(key, "expected a list of mappings, got " + kind_of(child));
  read_->insert(key_path(key));
  std::vector<ConfigNode> elements;
  for (std::size_t i = 0; i < child.size(); ++i) {
    if (!child[i].IsMap()) fail_item(key, i, "expected a mapping, got " + kind_of(child[i]));
    ConfigNode element(std::make_unique<YAML::Node>(child[i]), source_,
                       fmt::format("{}[{}]", key_path(key), i), read_);
    elements.push_back(element);
  }
  return elements;
}

void ConfigNode::fail_item(const std::string& key, std::size_t index, const std::string& message) const {
  const YAML::Mark mark = (*node_)[key][index].Mark();
  throw ConfigError(fmt::format("{}: {}[{}]: {}",
                                mark.is_null() ? location(key) : fmt::format("{}:{}", source_, mark.line + 1),
                                key_path(key), index, message));
}

template <class T>
T ConfigNode::get(const std::string& key) const {
  queried_->insert(key_path(key));
  const YAML::Node child = (*node_)[key];
  if (!child.IsDefined() || child.IsNull()) fail(key, std::string("missing; expected ") + type_name<T>());
  if (!child.IsScalar()) fail(key, std::string("expected ") + type_name<T>() + ", got " + kind_of(child));
  read_->insert(key_path(key));
  try {
    return child.as<T>();
  } catch (const YAML::Exception&) {
    fail(key, std::string("expected ") + type_name<T>() + ", got " + kind_of(child));
  }
}

template std::int64_t ConfigNode::get<std::int64_t>(const std::string&) const;
template double ConfigNode::get<double>(const std::string&) const;
template bool ConfigNode::get<bool>(const std::string&) const;
template std::string ConfigNode::get<std::string>(const std::string&) const;

void ConfigNode::apply_override(const std::string& assignment) {
  const std::size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw ConfigError("--set " + assignment + ": expected section.key=value");
  }
  const std::string path = assignment.substr(0, equals);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::ParserException& error) {
    throw ConfigError("--set " + assignment + ": the value is not valid YAML: " + error.msg);
  }
  std::vector<std::string> keys;
  for (std::size_t start = 0; start <= path.size();) {
    const std::size_t dot = std::min(path.find('.', start), path.size());
    keys.push_back(path.substr(start, dot - start));
    if (keys.back().empty()) throw ConfigError("--set " + assignment + ": empty key in '" + path + "'");
    start = dot + 1;
  }
  // yaml-cpp nodes are handles: walking with copies updates the shared tree.
  std::vector<YAML::Node> chain{*node_};
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = chain.back()[keys[i]];
    if (next.IsDefined() && !next.IsNull() && !next.IsMap()) {
      throw ConfigError("--set " + assignment + ": '" + keys[i] + "' is a value, not a section");
    }
    if (!next.IsDefined() || next.IsNull()) chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
    chain.push_back(chain.back()[keys[i]]);
  }
  chain.back()[keys.back()] = value;
}

std::string ConfigNode::dump() const {
  YAML::Emitter out;
  out << *node_;
  return out.c_str();
}

void ConfigNode::reject_unknown_keys() const {
  const std::string prefix = path_.empty() ? "" : path_ + ".";
  std::vector<std::string> known;
  for (const std::string& queried : *queried_) {
    const std::string rest = queried.substr(std::min(prefix.size(), queried.size()));
    if (queried.starts_with(prefix) && rest.find('.') == std::string::npos) known.push_back(rest);
  }
  for (const auto& entry : *node_) {
    const std::string key = entry.first.as<std::string>();
    if (!read_->count(key_path(key))) {
      std::string hint;
      std::size_t best = 3;
      for (const std::string& candidate : known) {
        if (const std::size_t distance = edit_distance(key, candidate); distance < best) {
          best = distance;
          hint = "; did you mean '" + key_path(candidate) + "'?";
        }
      }
      fail(key, "unknown key" + hint);
    }
    if (entry.second.IsMap()) section(key).reject_unknown_keys();
  }
}

}  // namespace primer
