#pragma once

#include <ostream>
#include <string>

#include "report/grid.h"

namespace tritonize {

/// The start of a self-contained HTML page: its title, its style sheet and the script that
/// records script errors into the page (data-errors on <html>). Nothing is fetched: no
/// font, no script, no style from the network.
void BeginHtmlPage(const std::string& title, std::ostream& out);

/// The end of the page, with the script that marks how many charts the browser drew
/// (data-charts and data-charts-drawn on <body>): what the browser test reads back. The page
/// reads the same without scripts.
void EndHtmlPage(std::ostream& out);

/// A grid as an HTML table: numbers right-aligned as in the text table, the summary row
/// bold, wide tables scrolling on their own.
void PrintHtmlTable(const Grid& grid, std::ostream& out);

}  // namespace tritonize
