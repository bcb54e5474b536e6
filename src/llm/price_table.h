#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace tritonize {

/// USD per million tokens for one model (data/prices.toml).
struct ModelPrice {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};

class PriceTable {
 public:
  /// Reads a prices file: [models."PROVIDER:MODEL"] with input_per_mtok and output_per_mtok.
  static bool Load(const std::filesystem::path& path, PriceTable* out, std::string* err);

  /// Price of a model, by "provider:model", else by "model" alone.
  std::optional<ModelPrice> Find(const std::string& provider, const std::string& model) const;

  /// Cost in USD; nullopt when the model has no price or a token count is unknown.
  std::optional<double> Cost(const std::string& provider, const std::string& model,
                             long long tokens_in, long long tokens_out) const;

  void Set(const std::string& key, ModelPrice price) { prices_[key] = price; }

 private:
  std::map<std::string, ModelPrice> prices_;
};

}  // namespace tritonize
