// Checks an HTML report the way a person's browser shows it: headless
// Chromium (Debian package `chromium`) lays the page out at a given width,
// and a probe reads the DOM back — whether anything overflows sideways, the
// code blocks (DDL) it shows, its headings, findings and recommendations —
// and takes a screenshot kept as a test artefact.
//
// The report itself carries no script. To measure it at a phone's width
// (headless Chromium will not make a window narrower than 500 px) the probe
// page embeds the report in an iframe of that width through `srcdoc` (same
// origin, so the probe can read the report's DOM), and reports what it saw in
// an attribute that `--dump-dom` prints.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/review_cli.h"

namespace pgvise::testing {

struct HtmlProbe {
  bool ok = false;
  std::string error;  // why the probe could not run
  int scroll_width = 0, client_width = 0;
  std::vector<std::string> code;      // text of every <pre class="sql">
  std::vector<std::string> headings;  // h1..h4 text
  int findings = 0, tree_nodes = 0, bars = 0, tables = 0;
  std::string text;  // the page's visible text
  bool Overflows() const { return scroll_width > client_width; }
};

inline std::string ChromiumBin() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(c)) return c;
  return "";
}

inline std::string AttrEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

inline std::string HtmlUnescape(std::string s) {
  const std::pair<const char*, const char*> ents[] = {
      {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : ents) {
    std::string out;
    size_t i = 0, p;
    while ((p = s.find(from, i)) != std::string::npos) {
      out += s.substr(i, p - i) + to;
      i = p + std::strlen(from);
    }
    s = out + s.substr(i);
  }
  return s;
}

// Where screenshots go: $PGVISE_ARTIFACTS or <build>/html-artifacts.
inline std::string ArtifactDir() {
  const char* env = std::getenv("PGVISE_ARTIFACTS");
  std::string dir = env && *env ? env : "html-artifacts";
  std::filesystem::create_directories(dir);
  return dir;
}

// Lays `html` out `width` px wide, probes it, and saves a screenshot as
// <ArtifactDir>/<name>-<width>.png.
inline HtmlProbe ProbeHtml(const std::string& html, int width, const std::string& name) {
  HtmlProbe p;
  const std::string chromium = ChromiumBin();
  if (chromium.empty()) {
    p.error = "chromium is not installed (scripts/install-deps.sh installs it)";
    return p;
  }
  const std::string dir = TempDir("html-probe");
  const std::string page = dir + "/probe.html";
  const std::string w = std::to_string(width);
  WriteWhole(page,
             "<!doctype html><html><head><meta charset=\"utf-8\"></head>"
             "<body style=\"margin:0\"><iframe id=\"f\" style=\"width:" +
                 w + "px;height:1400px;border:0\" srcdoc=\"" + AttrEscape(html) +
                 "\"></iframe><script>\n"
                 "document.getElementById('f').addEventListener('load', () => {\n"
                 "  const d = document.getElementById('f').contentDocument;\n"
                 "  const all = (s) => Array.from(d.querySelectorAll(s));\n"
                 "  document.body.setAttribute('data-probe', JSON.stringify({\n"
                 "    sw: d.documentElement.scrollWidth, cw: d.documentElement.clientWidth,\n"
                 "    code: all('pre.sql').map(e => e.textContent),\n"
                 "    headings: all('h1,h2,h3,h4').map(e => e.textContent),\n"
                 "    findings: all('.finding').length, nodes: all('ul.tree li').length,\n"
                 "    bars: all('.bar').length, tables: all('table').length,\n"
                 "    text: d.body.innerText}));\n"
                 "});\n</script></body></html>\n");
  const std::string flags =
      " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=3000 ";
  std::string out;
  RunCommand("'" + chromium + "'" + flags +
                 "--window-size=" + std::to_string(std::max(width, 500)) +
                 ",1400 --dump-dom 'file://" + page + "' 2>/dev/null",
             &out);
  const std::string key = "data-probe=\"";
  size_t a = out.find(key);
  size_t b = a == std::string::npos ? a : out.find('"', a + key.size());
  if (b == std::string::npos) {
    p.error = "the probe did not run (no data-probe in chromium's DOM dump)";
    return p;
  }
  auto j = nlohmann::json::parse(HtmlUnescape(out.substr(a + key.size(), b - a - key.size())),
                                 nullptr, false);
  if (j.is_discarded()) {
    p.error = "unreadable probe JSON";
    return p;
  }
  p.scroll_width = j.value("sw", 0);
  p.client_width = j.value("cw", 0);
  p.code = j.value("code", std::vector<std::string>{});
  p.headings = j.value("headings", std::vector<std::string>{});
  p.findings = j.value("findings", 0);
  p.tree_nodes = j.value("nodes", 0);
  p.bars = j.value("bars", 0);
  p.tables = j.value("tables", 0);
  p.text = j.value("text", "");
  // The screenshot: the probe page (the report in its `width` frame).
  RunCommand("'" + chromium + "'" + flags + "--window-size=" +
                 std::to_string(std::max(width, 500)) + ",1400 --screenshot='" + ArtifactDir() +
                 "/" + name + "-" + w + ".png' 'file://" + page + "' >/dev/null 2>&1",
             &out);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  p.ok = true;
  return p;
}

}  // namespace pgvise::testing
