#include "authz/dsl_lexer.h"

#include <utility>

namespace gh::authz {
namespace {

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsLetter(c) || IsDigit(c) || c == '_'; }

struct Keyword {
  std::string_view text;
  DslTok tok;
};
constexpr Keyword kKeywords[] = {
    {"and", DslTok::kAnd},
    {"or", DslTok::kOr},
    {"from", DslTok::kFrom},
    {"module", DslTok::kModule},
    {"model", DslTok::kModel},
    {"schema", DslTok::kSchema},
    {"extend", DslTok::kExtend},
    {"type", DslTok::kType},
    {"condition", DslTok::kCondition},
    {"relations", DslTok::kRelations},
    {"relation", DslTok::kRelation},
    {"define", DslTok::kDefine},
    {"with", DslTok::kWith},
};

class Lexer {
 public:
  explicit Lexer(const std::vector<std::string>& lines) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) text_ += '\n';
      text_ += lines[i];
    }
  }

  std::vector<DslToken> Run() {
    std::vector<DslToken> out;
    bool cond_mode = false;
    bool expect_body = false;  // after the parameter list: `{` starts a CEL body
    while (pos_ < text_.size()) {
      DslToken t;
      t.line = line_;
      t.col = col_;
      size_t start = pos_;
      char c = text_[pos_];
      // NEWLINE: WHITESPACE? ('\r'? '\n')+ with blanks between and after.
      size_t nl_end = MatchNewline(pos_);
      size_t ws_end = pos_;
      while (ws_end < text_.size() && (text_[ws_end] == ' ' || text_[ws_end] == '\t')) ++ws_end;
      if (nl_end > pos_ && nl_end >= ws_end) {
        Emit(out, t, DslTok::kNewline, start, nl_end);
        continue;
      }
      if (ws_end > pos_) {
        Emit(out, t, DslTok::kWhitespace, start, ws_end);
        continue;
      }
      if (expect_body && c == '{') {
        Emit(out, t, DslTok::kLBrace, start, pos_ + 1);
        LexConditionBody(out);
        expect_body = false;
        continue;
      }
      if (IsLetter(c) || c == '_') {
        size_t id_end = pos_ + 1;  // IDENTIFIER: (LETTER|_)(LETTER|DIGIT|_|-)*
        while (id_end < text_.size() && (IsWordChar(text_[id_end]) || text_[id_end] == '-')) {
          ++id_end;
        }
        size_t ext_end = ExtendedIdentifierEnd(pos_);
        std::string_view word(text_.data() + pos_, id_end - pos_);
        if (cond_mode) {
          DslTok tok = DslTok::kIdentifier;
          if (word == "map" || word == "list") tok = DslTok::kParamContainer;
          if (word == "bool" || word == "string" || word == "int" || word == "uint" ||
              word == "double" || word == "duration" || word == "timestamp" ||
              word == "ipaddress") {
            tok = DslTok::kParamType;
          }
          Emit(out, t, tok, start, id_end);
          continue;
        }
        // "but not" is one token.
        if (text_.compare(pos_, 7, "but not") == 0 &&
            (pos_ + 7 >= text_.size() ||
             !(IsWordChar(text_[pos_ + 7]) || text_[pos_ + 7] == '-'))) {
          Emit(out, t, DslTok::kButNot, start, pos_ + 7);
          continue;
        }
        DslTok kw = DslTok::kIdentifier;
        for (const auto& k : kKeywords) {
          if (word == k.text) kw = k.tok;
        }
        if (ext_end > id_end) {
          Emit(out, t, DslTok::kExtendedIdentifier, start, ext_end);
        } else {
          Emit(out, t, kw, start, id_end);
          if (kw == DslTok::kCondition) cond_mode = true;
        }
        continue;
      }
      if (IsDigit(c)) {
        size_t e = pos_;
        while (e < text_.size() && IsDigit(text_[e])) ++e;
        if (e + 1 < text_.size() && text_[e] == '.' && IsDigit(text_[e + 1])) {
          ++e;
          while (e < text_.size() && IsDigit(text_[e])) ++e;
          Emit(out, t, DslTok::kSchemaVersion, start, e);
        } else {
          Emit(out, t, DslTok::kOther, start, e);
        }
        continue;
      }
      DslTok punct = DslTok::kOther;
      switch (c) {
        case '#':
          punct = DslTok::kHash;
          break;
        case ':':
          punct = DslTok::kColon;
          break;
        case ',':
          punct = DslTok::kComma;
          break;
        case '[':
          punct = DslTok::kLBracket;
          break;
        case ']':
          punct = DslTok::kRBracket;
          break;
        case '{':
          punct = DslTok::kLBrace;
          break;
        case '}':
          punct = DslTok::kRBrace;
          break;
        case '(':
          punct = DslTok::kLParen;
          break;
        case ')':
          punct = DslTok::kRParen;
          break;
        case '<':
          punct = DslTok::kLess;
          break;
        case '>':
          punct = DslTok::kGreater;
          break;
        case '*':
          punct = DslTok::kStar;
          break;
        default:
          break;
      }
      if (punct == DslTok::kRParen && cond_mode) {
        cond_mode = false;
        expect_body = true;
      }
      Emit(out, t, punct, start, pos_ + 1);
    }
    DslToken eof;
    eof.type = DslTok::kEof;
    eof.text = "<EOF>";
    eof.line = line_;
    eof.col = col_;
    out.push_back(std::move(eof));
    return out;
  }

 private:
  size_t MatchNewline(size_t p) const {
    size_t q = p;
    while (q < text_.size() && (text_[q] == ' ' || text_[q] == '\t')) ++q;
    size_t end = p;
    bool any = false;
    while (q < text_.size()) {
      if (text_[q] == '\r' && q + 1 < text_.size() && text_[q + 1] == '\n') {
        q += 2;
      } else if (text_[q] == '\n' || text_[q] == '\r') {
        ++q;
      } else {
        break;
      }
      any = true;
      while (q < text_.size() && (text_[q] == ' ' || text_[q] == '\t')) ++q;
      end = q;
    }
    return any ? end : p;
  }

  // EXTENDED_IDENTIFIER: (LETTER|_) ( (SLASH|DOT|MINUS)? (LETTER|DIGIT|_)+ )*
  size_t ExtendedIdentifierEnd(size_t p) const {
    size_t e = p + 1;
    while (e < text_.size()) {
      size_t q = e;
      if (text_[q] == '/' || text_[q] == '.' || text_[q] == '-') ++q;
      size_t w = q;
      while (w < text_.size() && IsWordChar(text_[w])) ++w;
      if (w == q) break;
      e = w;
    }
    return e;
  }

  void LexConditionBody(std::vector<DslToken>& out) {
    DslToken body;
    body.line = line_;
    body.col = col_;
    size_t start = pos_;
    size_t p = pos_;
    while (p < text_.size() && text_[p] != '}') {
      char c = text_[p];
      if (c == '"' || c == '\'') {
        bool triple = text_.compare(p, 3, std::string(3, c)) == 0;
        p += triple ? 3 : 1;
        while (p < text_.size()) {
          if (text_[p] == '\\') {
            p += 2;
            continue;
          }
          if (triple ? text_.compare(p, 3, std::string(3, c)) == 0 : text_[p] == c) {
            p += triple ? 3 : 1;
            break;
          }
          if (!triple && text_[p] == '\n') break;
          ++p;
        }
        continue;
      }
      ++p;
    }
    Emit(out, body, DslTok::kConditionBody, start, p);
  }

  void Emit(std::vector<DslToken>& out, DslToken& t, DslTok type, size_t start, size_t end) {
    t.type = type;
    t.text = text_.substr(start, end - start);
    for (size_t i = start; i < end; ++i) {
      if (text_[i] == '\n') {
        ++line_;
        col_ = 0;
      } else {
        ++col_;
      }
    }
    pos_ = end;
    out.push_back(std::move(t));
  }

  std::string text_;
  size_t pos_ = 0;
  int line_ = 0;
  int col_ = 0;
};

}  // namespace

std::vector<std::string> CleanDslLines(std::string_view source) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = source.find('\n', start);
    std::string line(
        source.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    size_t hash = line.find(" #");
    if (hash != std::string::npos) line.erase(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.pop_back();
    }
    lines.push_back(std::move(line));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

std::vector<DslToken> LexDsl(const std::vector<std::string>& lines) { return Lexer(lines).Run(); }

std::string TokenDisplay(const DslToken& t) {
  if (t.type == DslTok::kEof) return "<EOF>";
  std::string out;
  for (char c : t.text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace gh::authz
