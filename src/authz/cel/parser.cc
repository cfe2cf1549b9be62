#include "authz/cel/parser.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

namespace gh::authz::cel {
namespace {

enum class Tok { kEnd, kInt, kUint, kDouble, kString, kBytes, kIdent, kPunct };

struct Token {
  Tok type = Tok::kEnd;
  std::string text;  // identifier / punctuation / decoded string
  Value value;       // numeric literal value
  int pos = 0;
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentPart(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.pos = static_cast<int>(i_);
      if (i_ >= s_.size()) {
        t.type = Tok::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      char c = s_[i_];
      // Strings, raw strings and bytes.
      bool raw = false, bytes = false;
      size_t j = i_;
      for (int k = 0; k < 2 && j < s_.size(); ++k) {
        if ((s_[j] == 'r' || s_[j] == 'R') && !raw) {
          raw = true;
          ++j;
        } else if ((s_[j] == 'b' || s_[j] == 'B') && !bytes) {
          bytes = true;
          ++j;
        } else {
          break;
        }
      }
      if (j < s_.size() && (s_[j] == '"' || s_[j] == '\'') && (raw || bytes || j == i_)) {
        i_ = j;
        auto str = LexString(raw);
        if (!str.ok()) return str.status();
        t.type = bytes ? Tok::kBytes : Tok::kString;
        t.text = std::move(str).value();
        out.push_back(std::move(t));
        continue;
      }
      if (IsIdentStart(c)) {
        size_t start = i_;
        while (i_ < s_.size() && IsIdentPart(s_[i_])) ++i_;
        t.type = Tok::kIdent;
        t.text = std::string(s_.substr(start, i_ - start));
        out.push_back(std::move(t));
        continue;
      }
      if (IsDigit(c) || (c == '.' && i_ + 1 < s_.size() && IsDigit(s_[i_ + 1]))) {
        auto st = LexNumber(t);
        if (!st.ok()) return st;
        out.push_back(std::move(t));
        continue;
      }
      static const char* kTwo[] = {"<=", ">=", "==", "!=", "&&", "||"};
      bool matched = false;
      for (const char* p : kTwo) {
        if (s_.substr(i_, 2) == p) {
          t.type = Tok::kPunct;
          t.text = p;
          i_ += 2;
          matched = true;
          break;
        }
      }
      if (matched) {
        out.push_back(std::move(t));
        continue;
      }
      if (std::string_view("()[]{}.,:?!-+*/%<>").find(c) != std::string_view::npos) {
        t.type = Tok::kPunct;
        t.text = std::string(1, c);
        ++i_;
        out.push_back(std::move(t));
        continue;
      }
      return Status::InvalidArgument("Syntax error at " + std::to_string(i_) +
                                     ": unexpected character '" + std::string(1, c) + "'");
    }
  }

 private:
  void SkipSpaceAndComments() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++i_;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  Status LexNumber(Token& t) {
    size_t start = i_;
    if (s_.substr(i_, 2) == "0x" || s_.substr(i_, 2) == "0X") {
      i_ += 2;
      size_t ds = i_;
      while (i_ < s_.size() && IsHex(s_[i_])) ++i_;
      if (i_ == ds) return Status::InvalidArgument("Syntax error: malformed hex literal");
      std::string digits(s_.substr(ds, i_ - ds));
      errno = 0;
      unsigned long long v = std::strtoull(digits.c_str(), nullptr, 16);
      if (errno == ERANGE) return Status::InvalidArgument("Syntax error: integer out of range");
      if (i_ < s_.size() && (s_[i_] == 'u' || s_[i_] == 'U')) {
        ++i_;
        t.type = Tok::kUint;
        t.value = Value::FromUint(v);
      } else {
        t.type = Tok::kInt;
        if (v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) + 1ULL) {
          return Status::InvalidArgument("Syntax error: integer out of range");
        }
        t.value = Value::FromUint(v);  // sign resolved by the parser
      }
      return Status::Ok();
    }
    bool is_double = false;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] == '.' && i_ + 1 < s_.size() && IsDigit(s_[i_ + 1])) {
      is_double = true;
      ++i_;
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t save = i_;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ < s_.size() && IsDigit(s_[i_])) {
        is_double = true;
        while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
      } else {
        i_ = save;
      }
    }
    std::string text(s_.substr(start, i_ - start));
    if (is_double) {
      t.type = Tok::kDouble;
      t.value = Value::FromDouble(std::strtod(text.c_str(), nullptr));
      return Status::Ok();
    }
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE) return Status::InvalidArgument("Syntax error: integer out of range");
    if (i_ < s_.size() && (s_[i_] == 'u' || s_[i_] == 'U')) {
      ++i_;
      t.type = Tok::kUint;
      t.value = Value::FromUint(v);
      return Status::Ok();
    }
    if (v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) + 1ULL) {
      return Status::InvalidArgument("Syntax error: integer out of range");
    }
    t.type = Tok::kInt;
    t.value = Value::FromUint(v);
    return Status::Ok();
  }

  Result<std::string> LexString(bool raw) {
    char q = s_[i_];
    bool triple = s_.substr(i_, 3) == std::string(3, q);
    i_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) return Status::InvalidArgument("Syntax error: unterminated string");
      char c = s_[i_];
      if (triple) {
        if (s_.substr(i_, 3) == std::string(3, q)) {
          i_ += 3;
          return out;
        }
      } else {
        if (c == q) {
          ++i_;
          return out;
        }
        if (c == '\n' || c == '\r') {
          return Status::InvalidArgument("Syntax error: newline in string");
        }
      }
      if (c == '\\' && !raw) {
        if (i_ + 1 >= s_.size()) return Status::InvalidArgument("Syntax error: bad escape");
        char e = s_[i_ + 1];
        i_ += 2;
        switch (e) {
          case 'a':
            out += '\a';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'v':
            out += '\v';
            break;
          case '"':
            out += '"';
            break;
          case '\'':
            out += '\'';
            break;
          case '\\':
            out += '\\';
            break;
          case '?':
            out += '?';
            break;
          case '`':
            out += '`';
            break;
          case 'x':
          case 'X':
          case 'u':
          case 'U': {
            int n = (e == 'x' || e == 'X') ? 2 : (e == 'u' ? 4 : 8);
            if (i_ + n > s_.size()) return Status::InvalidArgument("Syntax error: bad escape");
            uint32_t cp = 0;
            for (int k = 0; k < n; ++k) {
              char h = s_[i_ + k];
              if (!IsHex(h)) return Status::InvalidArgument("Syntax error: bad escape");
              cp = cp * 16 + (IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            i_ += n;
            if (n == 2) {
              out += static_cast<char>(cp);
            } else {
              AppendUtf8(out, cp);
            }
            break;
          }
          default:
            if (e >= '0' && e <= '3' && i_ + 2 <= s_.size()) {
              int v = (e - '0') * 64 + (s_[i_] - '0') * 8 + (s_[i_ + 1] - '0');
              i_ += 2;
              out += static_cast<char>(v);
            } else {
              return Status::InvalidArgument("Syntax error: bad escape");
            }
        }
        continue;
      }
      out += c;
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

ExprPtr MakeCall(std::string name, std::vector<ExprPtr> args, int pos) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kCall;
  e->name = std::move(name);
  e->args = std::move(args);
  e->position = pos;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Result<ExprPtr> ParseAll() {
    auto e = ParseExpr();
    if (!e.ok()) return e;
    if (Peek().type != Tok::kEnd) return Unexpected();
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t k = std::min(p_ + ahead, t_.size() - 1);
    return t_[k];
  }
  bool IsPunct(std::string_view p, size_t ahead = 0) const {
    return Peek(ahead).type == Tok::kPunct && Peek(ahead).text == p;
  }
  bool AcceptPunct(std::string_view p) {
    if (IsPunct(p)) {
      ++p_;
      return true;
    }
    return false;
  }
  Status Unexpected() const {
    const Token& t = Peek();
    std::string what = t.type == Tok::kEnd ? "end of input" : "token '" + t.text + "'";
    if (t.type == Tok::kInt || t.type == Tok::kUint || t.type == Tok::kDouble) what = "number";
    if (t.type == Tok::kString) what = "string";
    return Status::InvalidArgument("Syntax error at " + std::to_string(t.pos) + ": unexpected " +
                                   what);
  }
  Status ExpectPunct(std::string_view p) {
    if (AcceptPunct(p)) return Status::Ok();
    return Unexpected();
  }

  Result<ExprPtr> ParseExpr() {
    if (++depth_ > 250) return Status::InvalidArgument("expression nested too deeply");
    auto cond = ParseOr();
    if (!cond.ok()) return cond;
    if (IsPunct("?")) {
      int pos = Peek().pos;
      ++p_;
      auto a = ParseOr();
      if (!a.ok()) return a;
      GH_RETURN_IF_ERROR(ExpectPunct(":"));
      auto b = ParseExpr();
      if (!b.ok()) return b;
      std::vector<ExprPtr> args;
      args.push_back(std::move(cond).value());
      args.push_back(std::move(a).value());
      args.push_back(std::move(b).value());
      --depth_;
      return MakeCall("_?_:_", std::move(args), pos);
    }
    --depth_;
    return cond;
  }

  template <typename Next>
  Result<ExprPtr> ParseLeftAssoc(
      std::initializer_list<std::pair<std::string_view, std::string_view>> ops, Next next) {
    auto lhs = (this->*next)();
    if (!lhs.ok()) return lhs;
    ExprPtr left = std::move(lhs).value();
    while (true) {
      bool found = false;
      for (const auto& [tok, fn] : ops) {
        bool match =
            (tok == "in") ? (Peek().type == Tok::kIdent && Peek().text == "in") : IsPunct(tok);
        if (match) {
          int pos = Peek().pos;
          ++p_;
          auto rhs = (this->*next)();
          if (!rhs.ok()) return rhs;
          std::vector<ExprPtr> args;
          args.push_back(std::move(left));
          args.push_back(std::move(rhs).value());
          left = MakeCall(std::string(fn), std::move(args), pos);
          found = true;
          break;
        }
      }
      if (!found) return left;
    }
  }

  Result<ExprPtr> ParseOr() { return ParseLeftAssoc({{"||", "_||_"}}, &Parser::ParseAnd); }
  Result<ExprPtr> ParseAnd() { return ParseLeftAssoc({{"&&", "_&&_"}}, &Parser::ParseRelation); }
  Result<ExprPtr> ParseRelation() {
    return ParseLeftAssoc({{"<=", "_<=_"},
                           {">=", "_>=_"},
                           {"<", "_<_"},
                           {">", "_>_"},
                           {"==", "_==_"},
                           {"!=", "_!=_"},
                           {"in", "@in"}},
                          &Parser::ParseAddition);
  }
  Result<ExprPtr> ParseAddition() {
    return ParseLeftAssoc({{"+", "_+_"}, {"-", "_-_"}}, &Parser::ParseMultiplication);
  }
  Result<ExprPtr> ParseMultiplication() {
    return ParseLeftAssoc({{"*", "_*_"}, {"/", "_/_"}, {"%", "_%_"}}, &Parser::ParseUnary);
  }

  Result<ExprPtr> ParseUnary() {
    if (IsPunct("!")) {
      int pos = Peek().pos;
      ++p_;
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      std::vector<ExprPtr> args;
      args.push_back(std::move(operand).value());
      return MakeCall("!_", std::move(args), pos);
    }
    if (IsPunct("-")) {
      int pos = Peek().pos;
      // Negative numeric literals are folded so that the minimum int64 is expressible.
      if (Peek(1).type == Tok::kInt || Peek(1).type == Tok::kDouble) {
        bool member_follows =
            Peek(2).type == Tok::kPunct && (Peek(2).text == "." || Peek(2).text == "[");
        if (!member_follows) {
          ++p_;
          const Token& num = Peek();
          ++p_;
          auto lit = std::make_unique<Expr>();
          lit->kind = ExprKind::kLiteral;
          lit->position = pos;
          if (num.type == Tok::kDouble) {
            lit->value = Value::FromDouble(-num.value.as_double());
          } else {
            uint64_t u = num.value.as_uint();
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1ULL) {
              return Status::InvalidArgument("integer out of range");
            }
            lit->value = Value::FromInt(static_cast<int64_t>(0 - u));
          }
          return ParseMemberSuffix(std::move(lit));
        }
      }
      ++p_;
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      std::vector<ExprPtr> args;
      args.push_back(std::move(operand).value());
      return MakeCall("-_", std::move(args), pos);
    }
    auto primary = ParsePrimary();
    if (!primary.ok()) return primary;
    return ParseMemberSuffix(std::move(primary).value());
  }

  Result<std::vector<ExprPtr>> ParseArgs(std::string_view close) {
    std::vector<ExprPtr> args;
    if (AcceptPunct(close)) return args;
    while (true) {
      auto a = ParseExpr();
      if (!a.ok()) return a.status();
      args.push_back(std::move(a).value());
      if (AcceptPunct(close)) return args;
      GH_RETURN_IF_ERROR(ExpectPunct(","));
      if (AcceptPunct(close)) return args;  // trailing comma
    }
  }

  static bool IsMacro(std::string_view name, size_t nargs, bool has_target) {
    if (!has_target) return name == "has" && nargs == 1;
    if (name == "all" || name == "exists" || name == "exists_one" || name == "filter") {
      return nargs == 2;
    }
    if (name == "map") return nargs == 2 || nargs == 3;
    return false;
  }

  Result<ExprPtr> BuildMacro(std::string name, ExprPtr target, std::vector<ExprPtr> args, int pos) {
    if (!target) {  // has(a.b)
      if (args[0]->kind != ExprKind::kSelect) {
        return Status::InvalidArgument("invalid argument to has() macro");
      }
      args[0]->test_only = true;
      return std::move(args[0]);
    }
    if (args[0]->kind != ExprKind::kIdent) {
      return Status::InvalidArgument("argument to " + name + "() must be a simple name");
    }
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kComprehension;
    e->name = std::move(name);
    e->var = args[0]->name;
    e->target = std::move(target);
    e->position = pos;
    for (size_t i = 1; i < args.size(); ++i) e->args.push_back(std::move(args[i]));
    return e;
  }

  Result<ExprPtr> ParseMemberSuffix(ExprPtr e) {
    while (true) {
      if (IsPunct(".")) {
        int pos = Peek().pos;
        ++p_;
        if (Peek().type != Tok::kIdent) return Unexpected();
        std::string field = Peek().text;
        ++p_;
        if (AcceptPunct("(")) {
          auto args = ParseArgs(")");
          if (!args.ok()) return args.status();
          if (IsMacro(field, args->size(), true)) {
            auto m = BuildMacro(field, std::move(e), std::move(args).value(), pos);
            if (!m.ok()) return m;
            e = std::move(m).value();
            continue;
          }
          auto call = MakeCall(field, std::move(args).value(), pos);
          call->target = std::move(e);
          e = std::move(call);
        } else {
          auto sel = std::make_unique<Expr>();
          sel->kind = ExprKind::kSelect;
          sel->name = field;
          sel->target = std::move(e);
          sel->position = pos;
          e = std::move(sel);
        }
      } else if (IsPunct("[")) {
        int pos = Peek().pos;
        ++p_;
        auto idx = ParseExpr();
        if (!idx.ok()) return idx;
        GH_RETURN_IF_ERROR(ExpectPunct("]"));
        std::vector<ExprPtr> args;
        args.push_back(std::move(e));
        args.push_back(std::move(idx).value());
        e = MakeCall("_[_]", std::move(args), pos);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> ParsePrimary() {
    const Token& t = Peek();
    auto lit = std::make_unique<Expr>();
    lit->kind = ExprKind::kLiteral;
    lit->position = t.pos;
    switch (t.type) {
      case Tok::kInt: {
        uint64_t u = t.value.as_uint();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Status::InvalidArgument("integer out of range");
        }
        lit->value = Value::FromInt(static_cast<int64_t>(u));
        ++p_;
        return lit;
      }
      case Tok::kUint:
      case Tok::kDouble:
        lit->value = t.value;
        ++p_;
        return lit;
      case Tok::kString:
        lit->value = Value::FromString(t.text);
        ++p_;
        return lit;
      case Tok::kBytes:
        lit->value = Value::FromBytes(t.text);
        ++p_;
        return lit;
      case Tok::kIdent: {
        std::string name = t.text;
        ++p_;
        if (name == "true" || name == "false") {
          lit->value = Value::FromBool(name == "true");
          return lit;
        }
        if (name == "null") {
          lit->value = Value();
          return lit;
        }
        if (name == "in") return Unexpected();
        if (AcceptPunct("(")) {
          auto args = ParseArgs(")");
          if (!args.ok()) return args.status();
          if (IsMacro(name, args->size(), false)) {
            return BuildMacro(name, nullptr, std::move(args).value(), t.pos);
          }
          return MakeCall(name, std::move(args).value(), t.pos);
        }
        auto id = std::make_unique<Expr>();
        id->kind = ExprKind::kIdent;
        id->name = std::move(name);
        id->position = t.pos;
        return id;
      }
      case Tok::kPunct: {
        if (t.text == "(") {
          ++p_;
          auto e = ParseExpr();
          if (!e.ok()) return e;
          GH_RETURN_IF_ERROR(ExpectPunct(")"));
          return e;
        }
        if (t.text == "[") {
          int pos = t.pos;
          ++p_;
          auto args = ParseArgs("]");
          if (!args.ok()) return args.status();
          auto e = std::make_unique<Expr>();
          e->kind = ExprKind::kList;
          e->args = std::move(args).value();
          e->position = pos;
          return e;
        }
        if (t.text == "{") {
          int pos = t.pos;
          ++p_;
          auto e = std::make_unique<Expr>();
          e->kind = ExprKind::kMap;
          e->position = pos;
          if (AcceptPunct("}")) return e;
          while (true) {
            auto k = ParseExpr();
            if (!k.ok()) return k;
            GH_RETURN_IF_ERROR(ExpectPunct(":"));
            auto v = ParseExpr();
            if (!v.ok()) return v;
            e->args.push_back(std::move(k).value());
            e->args.push_back(std::move(v).value());
            if (AcceptPunct("}")) return e;
            GH_RETURN_IF_ERROR(ExpectPunct(","));
            if (AcceptPunct("}")) return e;
          }
        }
        if (t.text == ".") {  // leading-dot identifier: .name refers to the root scope
          ++p_;
          return ParsePrimary();
        }
        return Unexpected();
      }
      case Tok::kEnd:
        return Unexpected();
    }
    return Unexpected();
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<ExprPtr> Parse(std::string_view source) {
  Lexer lexer(source);
  auto toks = lexer.Run();
  if (!toks.ok()) return toks.status();
  Parser parser(std::move(toks).value());
  return parser.ParseAll();
}

}  // namespace gh::authz::cel
