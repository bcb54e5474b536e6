#include "report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace tritonize {
namespace {

// Geometry, in viewBox units (about pixels at 900 px wide): labels, plot area, texts.
constexpr double kWidth = 900;
constexpr double kPlotLeft = 190;
constexpr double kPlotRight = 690;
constexpr double kRow = 24;
constexpr double kTop = 42;     // room for the title and the reference line's label
constexpr double kBottom = 30;  // room for the axis

std::string Num(double v) { return fmt::format("{:.1f}", v); }

std::string Open(const std::string& title, double height) {
  return fmt::format(
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\">\n<title>{}</title>\n"
      "<text class=\"chart-title\" x=\"0\" y=\"18\">{}</text>\n",
      Num(kWidth), Num(height), XmlEscape(title), XmlEscape(title), XmlEscape(title));
}

/// Tick values between lo and hi on a log axis: the usual ratios, thinned to at most seven.
std::vector<double> LogTicks(double lo, double hi) {
  static const std::vector<double> kCandidates = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5,
                                                  0.8,  1,    1.25, 1.5, 2,   3,    5,
                                                  10,   20,   50,   100, 200, 500,  1000};
  std::vector<double> ticks;
  for (double t : kCandidates) {
    if (t >= lo && t <= hi) ticks.push_back(t);
  }
  while (ticks.size() > 7) {
    std::vector<double> thinned;
    for (size_t i = 0; i < ticks.size(); ++i) {
      if (i % 2 == 0 || ticks[i] == 1) thinned.push_back(ticks[i]);
    }
    if (thinned.size() == ticks.size()) break;
    ticks = thinned;
  }
  return ticks;
}

std::string TickLabel(double v) { return fmt::format("{:g}x", v); }

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string IntervalChart(const std::string& title, const std::vector<IntervalMark>& marks,
                          const std::string& reference) {
  double lo = 1, hi = 1;
  for (const IntervalMark& m : marks) {
    for (double v : {m.point, m.lo, m.hi}) {
      if (std::isfinite(v) && v > 0) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  lo /= 1.15;
  hi *= 1.15;
  const double span = std::log(hi) - std::log(lo);
  auto x = [&](double v) {
    return kPlotLeft + (kPlotRight - kPlotLeft) * (std::log(v) - std::log(lo)) / span;
  };
  const double plot_bottom = kTop + kRow * static_cast<double>(marks.size());
  std::string svg = Open(title, plot_bottom + kBottom);
  for (double t : LogTicks(lo, hi)) {
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>"
        "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        Num(x(t)), Num(kTop - 4), Num(plot_bottom), Num(plot_bottom + 16), TickLabel(t));
  }
  svg += fmt::format(
      "<line class=\"reference\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>"
      "<text class=\"reference-label\" x=\"{0}\" y=\"{1}\" text-anchor=\"middle\">{3}</text>\n",
      Num(x(1)), Num(kTop - 8), Num(plot_bottom), XmlEscape(reference));
  for (size_t i = 0; i < marks.size(); ++i) {
    const IntervalMark& m = marks[i];
    const double y = kTop + kRow * (static_cast<double>(i) + 0.5);
    svg += fmt::format("<g class=\"mark {}\" data-mark=\"{}\"><title>{}: {}</title>",
                       XmlEscape(m.kind), i, XmlEscape(m.label), XmlEscape(m.text));
    svg += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                       Num(kPlotLeft - 10), Num(y + 4), XmlEscape(m.label));
    if (std::isfinite(m.lo) && std::isfinite(m.hi) && m.lo > 0 && m.hi > 0) {
      svg += fmt::format(
          "<line class=\"whisker\" x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\"/>"
          "<line class=\"whisker\" x1=\"{0}\" y1=\"{3}\" x2=\"{0}\" y2=\"{4}\"/>"
          "<line class=\"whisker\" x1=\"{1}\" y1=\"{3}\" x2=\"{1}\" y2=\"{4}\"/>",
          Num(x(m.lo)), Num(x(m.hi)), Num(y), Num(y - 5), Num(y + 5));
    }
    if (std::isfinite(m.point) && m.point > 0) {
      svg += fmt::format("<circle class=\"dot\" cx=\"{}\" cy=\"{}\" r=\"5\"/>", Num(x(m.point)),
                         Num(y));
    }
    svg += fmt::format("<text class=\"value\" x=\"{}\" y=\"{}\">{}</text></g>\n",
                       Num(kPlotRight + 12), Num(y + 4), XmlEscape(m.text));
  }
  return svg + "</svg>\n";
}

std::string BarChart(const std::string& title, const std::vector<BarGroup>& groups,
                     const std::vector<std::string>& series, double reference,
                     const std::string& reference_label, const std::string& unit) {
  double top = reference;
  size_t bars = 0;
  for (const BarGroup& g : groups) {
    for (const Bar& b : g.bars) {
      if (std::isfinite(b.value)) top = std::max(top, b.value);
    }
    bars += std::max<size_t>(g.bars.size(), 1);
  }
  top *= 1.05;
  constexpr double kBar = 15, kGap = 10, kLegendRow = 20;
  // The legend flows left to right from the plot's left edge, wrapping; a character of the
  // 12 px legend font is taken as 7 units wide.
  std::vector<std::pair<double, double>> legend;  // x, y of each entry
  double lx = kPlotLeft, ly = kTop - 2;
  for (const std::string& name : series) {
    const double width = 17 + 7 * static_cast<double>(name.size()) + 18;
    if (lx + width > kWidth && lx > kPlotLeft) {
      lx = kPlotLeft;
      ly += kLegendRow;
    }
    legend.emplace_back(lx, ly);
    lx += width;
  }
  auto x = [&](double v) { return kPlotLeft + (kPlotRight - kPlotLeft) * v / top; };
  const double plot_top = ly + kLegendRow + 14;
  const double plot_bottom =
      plot_top + kBar * static_cast<double>(bars) + kGap * static_cast<double>(groups.size());
  std::string svg = Open(title, plot_bottom + kBottom);
  for (size_t s = 0; s < series.size(); ++s) {
    svg += fmt::format(
        "<rect class=\"bar s{0}\" x=\"{1}\" y=\"{2}\" width=\"12\" height=\"12\"/>"
        "<text class=\"legend\" x=\"{3}\" y=\"{4}\">{5}</text>\n",
        s, Num(legend[s].first), Num(legend[s].second), Num(legend[s].first + 17),
        Num(legend[s].second + 10), XmlEscape(series[s]));
  }
  for (int i = 0; i <= 4; ++i) {
    const double v = top / 1.05 * i / 4;
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>"
        "<text class=\"tick\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4:.0f}{5}</text>\n",
        Num(x(v)), Num(plot_top), Num(plot_bottom), Num(plot_bottom + 16), v, XmlEscape(unit));
  }
  svg += fmt::format(
      "<line class=\"reference\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>"
      "<text class=\"reference-label\" x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
      Num(x(reference)), Num(plot_top - 4), Num(plot_bottom), Num(plot_top - 6),
      XmlEscape(reference_label));
  double y = plot_top;
  size_t mark = 0;
  for (const BarGroup& g : groups) {
    const double group_height = kBar * static_cast<double>(std::max<size_t>(g.bars.size(), 1));
    svg += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
                       Num(kPlotLeft - 10), Num(y + group_height / 2 + 4), XmlEscape(g.label));
    for (const Bar& b : g.bars) {
      const std::string name = b.series < series.size() ? series[b.series] : "";
      svg += fmt::format("<g class=\"mark\" data-mark=\"{}\"><title>{} {}: {}</title>", mark++,
                         XmlEscape(g.label), XmlEscape(name), XmlEscape(b.text));
      double end = kPlotLeft;
      if (std::isfinite(b.value) && b.value > 0) {
        end = x(b.value);
        svg +=
            fmt::format("<rect class=\"bar s{}{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                        b.series, b.flagged ? " flagged" : "", Num(kPlotLeft), Num(y + 1),
                        Num(end - kPlotLeft), Num(kBar - 2));
      }
      svg += fmt::format("<text class=\"value\" x=\"{}\" y=\"{}\">{}</text></g>\n", Num(end + 6),
                         Num(y + kBar - 4), XmlEscape(b.text));
      y += kBar;
    }
    if (g.bars.empty()) y += kBar;
    y += kGap;
  }
  return svg + "</svg>\n";
}

}  // namespace tritonize
