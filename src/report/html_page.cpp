#include "report/html_page.h"

#include "report/svg_chart.h"

namespace tritonize {
namespace {

constexpr const char* kStyle = R"css(
:root { --fg: #1d1f23; --muted: #5b616b; --line: #d9dce1; --bg-alt: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); }
main { max-width: 1320px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 4px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.muted, .heading { color: var(--muted); }
nav { margin: 10px 0 0; }
nav a { margin-right: 14px; }
.table-wrap { overflow-x: auto; margin: 6px 0 4px; }
table { border-collapse: collapse; font: 12.5px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
th, td { padding: 3px 7px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { text-align: left; background: var(--bg-alt); font-weight: 600; }
td.num, th.num { text-align: right; }
tr.summary td { font-weight: 700; border-top: 2px solid var(--fg); }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); }
ul.notes { margin: 6px 0; padding-left: 20px; font-size: 13px; }
figure { margin: 12px 0; max-width: 900px; }
figcaption { font-size: 13px; color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; font: 12px system-ui, "DejaVu Sans", sans-serif; }
svg .chart-title { font-size: 14px; font-weight: 600; fill: var(--fg); }
svg .grid { stroke: #e6e8eb; }
svg .tick, svg .legend, svg .label { fill: var(--fg); }
svg .tick { fill: var(--muted); }
svg .reference { stroke: #1d1f23; stroke-dasharray: 4 3; }
svg .reference-label { fill: var(--muted); font-size: 11px; }
svg .whisker { stroke-width: 2; }
svg .value { fill: var(--fg); font-size: 12px; }
svg .win .whisker, svg .win .dot { stroke: #1a7f37; fill: #1a7f37; }
svg .loss .whisker, svg .loss .dot { stroke: #c0392b; fill: #c0392b; }
svg .tie .whisker, svg .tie .dot { stroke: #59606b; fill: #59606b; }
svg .impossible .whisker, svg .impossible .dot { stroke: #b8860b; fill: #fff; stroke-width: 2; }
svg .bar.s0 { fill: #9aa0a8; } svg .bar.s1 { fill: #2f6fb0; } svg .bar.s2 { fill: #e07b24; }
svg .bar.s3 { fill: #7b4fb0; } svg .bar.s4 { fill: #2a9d8f; } svg .bar.s5 { fill: #c9404d; }
svg .bar.flagged { fill-opacity: 0.35; stroke: #b00020; stroke-dasharray: 3 2; }
.caveat { border-left: 4px solid #d4a017; background: #fff8e6; padding: 6px 10px; margin: 10px 0; font-size: 14px; }
)css";

// Registered before any other script: a script error anywhere in the page is written into it.
constexpr const char* kErrorScript = R"js(
window.addEventListener("error", function (event) {
  var root = document.documentElement;
  var seen = root.getAttribute("data-errors");
  root.setAttribute("data-errors", (seen ? seen + " | " : "") + String(event.message));
});
)js";

// A chart counts as drawn when the browser laid it out with a size and it has marks.
constexpr const char* kChartScript = R"js(
(function () {
  var charts = document.querySelectorAll("svg.chart"), drawn = 0;
  for (var i = 0; i < charts.length; i++) {
    var box = charts[i].getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && charts[i].querySelector("[data-mark]")) drawn++;
  }
  document.body.setAttribute("data-charts", String(charts.length));
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
)js";

}  // namespace

void BeginHtmlPage(const std::string& title, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << XmlEscape(title) << "</title>\n<script>" << kErrorScript
      << "</script>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<main>\n";
}

void EndHtmlPage(std::ostream& out) {
  out << "</main>\n<script>" << kChartScript << "</script>\n</body>\n</html>\n";
}

void PrintHtmlTable(const Grid& grid, std::ostream& out) {
  auto cell = [&](const char* tag, const std::string& text, size_t column) {
    const bool right = column < grid.right_aligned.size() && grid.right_aligned[column];
    out << "<" << tag << (right ? " class=\"num\"" : "") << ">" << XmlEscape(text) << "</" << tag
        << ">";
  };
  out << "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (size_t c = 0; c < grid.header.size(); ++c) cell("th", grid.header[c], c);
  out << "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < grid.rows.size(); ++r) {
    const bool summary = grid.last_row_is_summary && r + 1 == grid.rows.size();
    out << (summary ? "<tr class=\"summary\">" : "<tr>");
    for (size_t c = 0; c < grid.rows[r].size(); ++c) cell("td", grid.rows[r][c], c);
    out << "</tr>\n";
  }
  out << "</tbody></table></div>\n";
}

}  // namespace tritonize
