#pragma once

#include <string>
#include <vector>

namespace tritonize {

/// One row of an interval chart: a ratio with its interval, drawn as a dot on a line.
struct IntervalMark {
  std::string label;  // left of the row: "2048x2048 bwd"
  double point = 0;
  double lo = 0, hi = 0;  // not finite: the dot alone
  std::string kind;       // CSS class: win | loss | tie | impossible
  std::string text;       // right of the row: "1.20x (1.18-1.23)"
};

/// An interval chart on a log axis with a reference line at 1.0 labelled `reference`: one
/// row per mark. Inline SVG, sized by its viewBox to the width of its container; every mark
/// carries data-mark (the page's check counts them) and a <title> (the browser's tooltip).
std::string IntervalChart(const std::string& title, const std::vector<IntervalMark>& marks,
                          const std::string& reference);

/// One bar: a value of a series, with the text written after it.
struct Bar {
  size_t series = 0;  // index into the chart's series, for its colour and legend
  double value = 0;   // not finite: no bar, the text alone
  std::string text;
  bool flagged = false;  // drawn hatched: a value the reader must not take at face value
};

/// Bars grouped under one label (a size), one per series.
struct BarGroup {
  std::string label;
  std::vector<Bar> bars;
};

/// Horizontal bars on a linear axis from 0 to at least `reference` (a line labelled
/// `reference_label`, e.g. 100% of the spec peak), with a legend of `series`.
std::string BarChart(const std::string& title, const std::vector<BarGroup>& groups,
                     const std::vector<std::string>& series, double reference,
                     const std::string& reference_label, const std::string& unit);

/// Text for HTML and SVG: & < > " ' as entities.
std::string XmlEscape(const std::string& text);

}  // namespace tritonize
