#pragma once

#include <map>
#include <string>
#include <vector>

namespace tritonize {

/// Evaluates a cost formula of the task manifest ([cost.<mode>] bytes and flops): numbers,
/// the task's dim names, + - * / and parentheses, unary minus; e.g. "2 * (M * K + K * N)".
/// Returns false with *err saying what is wrong and where ("column 5: unknown name `Q`").
bool EvaluateFormula(const std::string& formula, const std::map<std::string, double>& values,
                     double* result, std::string* err);

/// Checks that `formula` parses and uses only `dims` (no values needed); false with *err.
bool ValidateFormula(const std::string& formula, const std::vector<std::string>& dims,
                     std::string* err);

/// The task's dims bound to one size ("2048x1024" with dims M, N); false if malformed.
bool BindDims(const std::vector<std::string>& dims, const std::string& size,
              std::map<std::string, double>* values);

}  // namespace tritonize
