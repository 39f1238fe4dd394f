#include "options.h"

#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

namespace primer::interpret {
namespace {

std::map<std::string, std::string> parse() {
  std::map<std::string, std::string> options;
  const char* text = std::getenv("PRIMER_INTERPRET");
  std::istringstream items(text != nullptr ? text : "");
  for (std::string item; std::getline(items, item, ',');) {
    if (item.empty()) continue;
    const auto equals = item.find('=');
    const std::string key = item.substr(0, equals);
    if (equals == std::string::npos ||
        (key != "device" && key != "order" && key != "streams" && key != "census")) {
      throw std::runtime_error("PRIMER_INTERPRET: '" + item +
                               "' is not key=value with a key of device, order, streams or census");
    }
    options[key] = item.substr(equals + 1);
  }
  return options;
}

}  // namespace

std::string interpret_option(const std::string& key, const std::string& fallback) {
  // Never destroyed: the launch census reads it at exit, after function-local statics may be gone.
  static const auto* options = new std::map<std::string, std::string>(parse());
  const auto found = options->find(key);
  return found != options->end() ? found->second : fallback;
}

}  // namespace primer::interpret
