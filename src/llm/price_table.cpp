#include "llm/price_table.h"

#include <fmt/format.h>
#include <toml++/toml.h>

namespace tritonize {

bool PriceTable::Load(const std::filesystem::path& path, PriceTable* out, std::string* err) {
  toml::table doc;
  try {
    doc = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    *err = fmt::format("{}: {}", path.string(), std::string(e.description()));
    return false;
  }
  const toml::table* models = doc["models"].as_table();
  if (models == nullptr) {
    *err = fmt::format("{}: no [models] table", path.string());
    return false;
  }
  for (const auto& [key, node] : *models) {
    const toml::table* t = node.as_table();
    auto in = t ? (*t)["input_per_mtok"].value<double>() : std::nullopt;
    auto outp = t ? (*t)["output_per_mtok"].value<double>() : std::nullopt;
    if (!in || !outp || *in < 0 || *outp < 0) {
      *err = fmt::format(
          "{}: models.\"{}\": needs input_per_mtok and output_per_mtok (USD per "
          "million tokens, >= 0)",
          path.string(), std::string(key.str()));
      return false;
    }
    out->prices_[std::string(key.str())] = {*in, *outp};
  }
  return true;
}

std::optional<ModelPrice> PriceTable::Find(const std::string& provider,
                                           const std::string& model) const {
  if (auto it = prices_.find(provider + ":" + model); it != prices_.end()) return it->second;
  if (auto it = prices_.find(model); it != prices_.end()) return it->second;
  return std::nullopt;
}

std::optional<double> PriceTable::Cost(const std::string& provider, const std::string& model,
                                       long long tokens_in, long long tokens_out) const {
  auto price = Find(provider, model);
  if (!price || tokens_in < 0 || tokens_out < 0) return std::nullopt;
  return (static_cast<double>(tokens_in) * price->input_per_mtok +
          static_cast<double>(tokens_out) * price->output_per_mtok) /
         1e6;
}

}  // namespace tritonize
