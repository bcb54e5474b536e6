#include "serve/redact.h"

namespace tritonize {

void RedactSecret(const std::string& secret, std::string* text) {
  if (secret.empty()) return;
  static const std::string kMark = "[redacted]";
  for (size_t at = text->find(secret); at != std::string::npos;
       at = text->find(secret, at + kMark.size())) {
    text->replace(at, secret.size(), kMark);
  }
}

void RedactSecret(const std::string& secret, nlohmann::json* value) {
  if (secret.empty()) return;
  if (value->is_string()) {
    RedactSecret(secret, value->get_ptr<std::string*>());
  } else if (value->is_array()) {
    for (auto& item : *value) RedactSecret(secret, &item);
  } else if (value->is_object()) {
    nlohmann::json redacted = nlohmann::json::object();
    for (auto& [key, item] : value->items()) {
      std::string name = key;
      RedactSecret(secret, &name);
      RedactSecret(secret, &item);
      redacted[name] = std::move(item);
    }
    *value = std::move(redacted);
  }
}

void RedactSecret(const std::string& secret, JobResult* result) {
  if (secret.empty()) return;
  RedactSecret(secret, &result->message);
  RedactSecret(secret, &result->detail);
  RedactSecret(secret, &result->phase);
  RedactSecret(secret, &result->environment);
  for (CheckRecord& check : result->checks) {
    RedactSecret(secret, &check.size);
    RedactSecret(secret, &check.mode);
    RedactSecret(secret, &check.output);
  }
  for (Timing& timing : result->timings) {
    RedactSecret(secret, &timing.sampling);
    RedactSecret(secret, &timing.env_before);
    RedactSecret(secret, &timing.env_after);
    std::map<std::string, int> kernels;
    for (const auto& [key, count] : timing.kernels) {
      std::string name = key;
      RedactSecret(secret, &name);
      kernels[name] = count;
    }
    timing.kernels = std::move(kernels);
    std::map<std::string, std::string> tuned;
    for (const auto& [key, value] : timing.tuned) {
      std::string name = key, config = value;
      RedactSecret(secret, &name);
      RedactSecret(secret, &config);
      tuned[name] = config;
    }
    timing.tuned = std::move(tuned);
    std::map<std::string, double> medians;
    for (const auto& [key, us] : timing.kernel_median_us) {
      std::string name = key;
      RedactSecret(secret, &name);
      medians[name] = us;
    }
    timing.kernel_median_us = std::move(medians);
  }
}

}  // namespace tritonize
