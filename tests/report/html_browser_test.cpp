// The HTML report in a real browser: headless Chromium (Debian's `chromium`, scripts/deps.sh
// --test) loads the page, runs its scripts and dumps the DOM, which must say every chart was
// laid out with marks and no script error happened; its console must be silent; and a
// screenshot at a laptop's 1366 px width must come out. Without Chromium the test is skipped,
// visibly, unless TRITONIZE_REQUIRE_BROWSER=1 (scripts/test.sh sets it), when it fails.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../support/test_dir.h"
#include "core/sha256.h"
#include "exec/subprocess.h"
#include "report/html_printer.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

std::string FindChromium() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"}) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      const fs::path path = fs::path(dir) / name;
      if (fs::exists(path)) return path.string();
    }
  }
  return "";
}

struct BrowserRun {
  int code = -1;
  std::string out, err;
};

BrowserRun RunChromium(const fs::path& dir, std::vector<std::string> args) {
  SubprocessOptions o;
  o.argv = {FindChromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--user-data-dir=" + (dir / "profile").string()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdout_path = dir / "stdout";
  o.stderr_path = dir / "stderr";
  o.timeout_s = 120;
  const SubprocessResult r = RunSubprocess(o);
  BrowserRun run;
  run.code = r.exit_code;
  std::string e;
  ReadFile(o.stdout_path, &run.out, &e);
  ReadFile(o.stderr_path, &run.err, &e);
  return run;
}

std::string Attribute(const std::string& dom, const std::string& name) {
  const std::regex pattern(name + "=\"([^\"]*)\"");
  std::smatch match;
  return std::regex_search(dom, match, pattern) ? match[1].str() : "";
}

TEST(HtmlBrowserTest, ChromiumDrawsEveryChartWithoutAnError) {
  if (FindChromium().empty()) {
    const char* require = std::getenv("TRITONIZE_REQUIRE_BROWSER");
    if (require != nullptr && std::string(require) == "1") {
      FAIL() << "no chromium: install it (bash scripts/deps.sh --test)";
    }
    GTEST_SKIP() << "no chromium (apt-get install chromium; scripts/deps.sh --test)";
  }
  const fs::path dir = FreshTestDir("browser");
  const fs::path page = dir / "report.html";
  {
    std::ofstream out(page);
    PrintHtml(testing_fixtures::TwoModelReport(), {}, "Run 1 of results.db", out);
  }
  const std::string url = "file://" + page.string();

  const BrowserRun dom = RunChromium(
      dir, {"--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", url});
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(Attribute(dom.out, "data-charts"), "5") << dom.out.substr(0, 2000);
  EXPECT_EQ(Attribute(dom.out, "data-charts-drawn"), "5");
  EXPECT_EQ(Attribute(dom.out, "data-errors"), "");
  // Console messages (errors included) are logged as ":CONSOLE"; the page writes none.
  EXPECT_EQ(dom.err.find(":CONSOLE"), std::string::npos) << dom.err;

  const fs::path png = dir / "report.png";
  const BrowserRun shot =
      RunChromium(dir, {"--window-size=1366,2400", "--screenshot=" + png.string(), url});
  ASSERT_EQ(shot.code, 0) << shot.err;
  std::string bytes, err;
  ASSERT_TRUE(ReadFile(png, &bytes, &err)) << err;
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  // The PNG header's width, big-endian at byte 16: the laptop width asked for.
  const auto byte = [&](size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[i]));
  };
  EXPECT_EQ((byte(16) << 24) | (byte(17) << 16) | (byte(18) << 8) | byte(19), 1366u);
  EXPECT_GT(bytes.size(), 50000u) << "a page of charts and tables is more than a blank image";
}

}  // namespace
}  // namespace tritonize
