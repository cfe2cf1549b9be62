#include "storage/postgres_placeholders.h"

namespace gh::storage {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

// Length of the quoted part starting at sql[i] (a quote, comment or dollar-quote opener), or 0
// when sql[i] opens none. Unterminated quotes run to the end (the server reports the error).
size_t QuotedLength(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  const char c = sql[i];
  if (c == '\'' || c == '"') {
    // E'...' strings take backslash escapes; '' (or "") inside is an escaped quote, which the
    // scan handles as one string ending and the next starting right away.
    const bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                         (i < 2 || !IsIdentChar(sql[i - 2]));
    size_t j = i + 1;
    while (j < n && sql[j] != c) j += (escapes && sql[j] == '\\') ? 2 : 1;
    return (j < n ? j + 1 : n) - i;
  }
  if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
    size_t end = sql.find('\n', i);
    return (end == std::string_view::npos ? n : end) - i;
  }
  if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
    int depth = 0;  // PostgreSQL block comments nest
    size_t j = i;
    while (j < n) {
      if (sql.compare(j, 2, "/*") == 0) {
        ++depth;
        j += 2;
      } else if (sql.compare(j, 2, "*/") == 0) {
        j += 2;
        if (--depth == 0) break;
      } else {
        ++j;
      }
    }
    return j - i;
  }
  if (c == '$' && (i == 0 || !IsIdentChar(sql[i - 1]))) {
    // $$...$$ or $tag$...$tag$ (a tag cannot start with a digit, so $1 is not one).
    size_t j = i + 1;
    if (j < n && IsIdentStart(sql[j])) {
      while (j < n && IsIdentChar(sql[j])) ++j;
    }
    if (j >= n || sql[j] != '$') return 0;
    std::string_view tag = sql.substr(i, j - i + 1);
    size_t end = sql.find(tag, j + 1);
    return (end == std::string_view::npos ? n : end + tag.size()) - i;
  }
  return 0;
}

}  // namespace

std::string ToPostgresPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int params = 0;
  size_t i = 0;
  while (i < sql.size()) {
    if (size_t quoted = QuotedLength(sql, i); quoted > 0) {
      out.append(sql.substr(i, quoted));
      i += quoted;
    } else if (sql[i] == '?') {
      out += '$';
      out += std::to_string(++params);
      ++i;
    } else {
      out += sql[i++];
    }
  }
  if (count) *count = params;
  return out;
}

}  // namespace gh::storage
