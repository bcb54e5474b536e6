#include "core/formula.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/task.h"

namespace tritonize {
namespace {

/// A recursive-descent parser over the formula's text; with `values` null it only checks
/// that every name is a known dim (validation at task load, before any size is known).
class FormulaParser {
 public:
  FormulaParser(const std::string& text, const std::map<std::string, double>* values,
                const std::vector<std::string>* dims)
      : text_(text), values_(values), dims_(dims) {}

  bool Parse(double* result, std::string* err) {
    SkipSpaces();
    if (pos_ == text_.size()) return Fail("empty formula", err);
    double value = 0;
    if (!Sum(&value, err)) return false;
    SkipSpaces();
    if (pos_ != text_.size()) {
      return Fail(fmt::format("unexpected `{}`", text_[pos_]), err);
    }
    *result = value;
    return true;
  }

 private:
  bool Sum(double* out, std::string* err) {
    if (!Product(out, err)) return false;
    for (SkipSpaces(); pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-');
         SkipSpaces()) {
      const char op = text_[pos_++];
      double rhs = 0;
      if (!Product(&rhs, err)) return false;
      *out = op == '+' ? *out + rhs : *out - rhs;
    }
    return true;
  }

  bool Product(double* out, std::string* err) {
    if (!Factor(out, err)) return false;
    for (SkipSpaces(); pos_ < text_.size() && (text_[pos_] == '*' || text_[pos_] == '/');
         SkipSpaces()) {
      const char op = text_[pos_++];
      double rhs = 0;
      if (!Factor(&rhs, err)) return false;
      if (op == '/' && rhs == 0 && values_ != nullptr) return Fail("division by zero", err);
      *out = op == '*' ? *out * rhs : (values_ != nullptr ? *out / rhs : *out);
    }
    return true;
  }

  bool Factor(double* out, std::string* err) {
    SkipSpaces();
    if (pos_ == text_.size()) return Fail("a number, a dim or `(` expected at the end", err);
    const char c = text_[pos_];
    if (c == '-' || c == '+') {
      ++pos_;
      if (!Factor(out, err)) return false;
      if (c == '-') *out = -*out;
      return true;
    }
    if (c == '(') {
      ++pos_;
      if (!Sum(out, err)) return false;
      SkipSpaces();
      if (pos_ == text_.size() || text_[pos_] != ')') return Fail("`)` expected", err);
      ++pos_;
      return true;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return Number(out, err);
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return Name(out, err);
    return Fail(fmt::format("unexpected `{}`", c), err);
  }

  bool Number(double* out, std::string* err) {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' ||
            ((text_[pos_] == '-' || text_[pos_] == '+') && pos_ > start &&
             (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E')))) {
      ++pos_;
    }
    const std::string token = text_.substr(start, pos_ - start);
    size_t used = 0;
    try {
      *out = std::stod(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size()) {
      pos_ = start;
      return Fail(fmt::format("malformed number `{}`", token), err);
    }
    return true;
  }

  bool Name(double* out, std::string* err) {
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    const std::string name = text_.substr(start, pos_ - start);
    if (values_ != nullptr) {
      auto it = values_->find(name);
      if (it == values_->end()) {
        pos_ = start;
        return Fail(fmt::format("unknown name `{}`", name), err);
      }
      *out = it->second;
      return true;
    }
    for (const auto& dim : *dims_) {
      if (dim == name) {
        *out = 1;
        return true;
      }
    }
    pos_ = start;
    return Fail(fmt::format("unknown name `{}` (the task's dims: {})", name,
                            fmt::join(*dims_, ", ")),
                err);
  }

  void SkipSpaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool Fail(const std::string& what, std::string* err) const {
    *err = fmt::format("column {}: {} in \"{}\"", pos_ + 1, what, text_);
    return false;
  }

  const std::string& text_;
  const std::map<std::string, double>* values_;
  const std::vector<std::string>* dims_;
  size_t pos_ = 0;
};

}  // namespace

bool EvaluateFormula(const std::string& formula, const std::map<std::string, double>& values,
                     double* result, std::string* err) {
  FormulaParser parser(formula, &values, nullptr);
  if (!parser.Parse(result, err)) return false;
  if (!std::isfinite(*result)) {
    *err = fmt::format("\"{}\" is not a finite number", formula);
    return false;
  }
  return true;
}

bool ValidateFormula(const std::string& formula, const std::vector<std::string>& dims,
                     std::string* err) {
  FormulaParser parser(formula, nullptr, &dims);
  double ignored = 0;
  return parser.Parse(&ignored, err);
}

bool BindDims(const std::vector<std::string>& dims, const std::string& size,
              std::map<std::string, double>* values) {
  std::vector<long long> numbers;
  if (!ParseSize(size, dims.size(), &numbers)) return false;
  values->clear();
  for (size_t i = 0; i < dims.size(); ++i) (*values)[dims[i]] = static_cast<double>(numbers[i]);
  return true;
}

}  // namespace tritonize
