#include "authz/dsl_parser.h"

#include <set>

#include "authz/dsl_lexer.h"

namespace gh::authz {
namespace {

constexpr const char* kIdentSet =
    "IDENTIFIER, 'module', 'model', 'schema', 'extend', 'type', 'relation', EXTENDED_IDENTIFIER";

bool IsIdentifier(DslTok t) {  // grammar rule `identifier`
  return t == DslTok::kIdentifier || t == DslTok::kModel || t == DslTok::kSchema ||
         t == DslTok::kType || t == DslTok::kRelation || t == DslTok::kModule ||
         t == DslTok::kExtend;
}
bool IsExtendedIdentifier(DslTok t) { return IsIdentifier(t) || t == DslTok::kExtendedIdentifier; }

class Parser {
 public:
  Parser(std::vector<DslToken> toks, DslParseResult* out) : t_(std::move(toks)), out_(out) {}

  void Run() {
    if (!ParseMain() && !syntax_failed_) {
      // Defensive: a failure path that did not record an error.
      SyntaxError(Cur(), "unexpected input '" + TokenDisplay(Cur()) + "'");
    }
  }

 private:
  // ---- token access ----
  const DslToken& Cur() const { return t_[std::min(i_, t_.size() - 1)]; }
  const DslToken& Peek(size_t k) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool Is(DslTok t) const { return Cur().type == t; }
  void Advance() {
    if (i_ < t_.size() - 1) ++i_;
  }
  bool Accept(DslTok t) {
    if (Is(t)) {
      Advance();
      return true;
    }
    return false;
  }

  // ---- errors ----
  void SyntaxError(const DslToken& at, std::string message) {
    if (syntax_failed_) return;
    syntax_failed_ = true;
    ModelError e;
    e.syntax = true;
    e.message = std::move(message);
    e.symbol = at.text;
    e.line = at.line;
    e.col_start = at.col;
    e.col_end = at.col + static_cast<int>(at.type == DslTok::kEof ? 5 : at.text.size());
    out_->errors.push_back(std::move(e));
  }
  void ParseSemanticError(const DslToken& at, std::string message) {
    ModelError e;
    e.syntax = true;
    e.message = std::move(message);
    e.symbol = at.text;
    e.line = at.line;
    e.col_start = at.col;
    e.col_end = at.col + static_cast<int>(at.text.size());
    out_->errors.push_back(std::move(e));
  }
  // ANTLR's single-token deletion: when the token after the offending one is what was expected,
  // the offending token is "extraneous"; otherwise the input is "mismatched".
  template <typename Pred>
  bool Expected(Pred in_set, const std::string& set_text) {
    std::string kind = in_set(Peek(1).type) ? "extraneous input '" : "mismatched input '";
    SyntaxError(Cur(), kind + TokenDisplay(Cur()) + "' expecting " + set_text);
    return false;
  }
  bool ExpectToken(DslTok t, const std::string& name) {
    if (Accept(t)) return true;
    return Expected([t](DslTok x) { return x == t; }, name);
  }

  // ---- grammar ----
  bool ParseMain() {
    bool leading = Accept(DslTok::kWhitespace);
    leading = Accept(DslTok::kNewline) || leading;
    while (Is(DslTok::kHash)) {
      SkipComment();
      if (!ExpectToken(DslTok::kNewline, "NEWLINE")) return false;
    }
    if (Is(DslTok::kModel)) {
      if (!ParseModelHeader()) return false;
    } else if (Is(DslTok::kModule)) {
      if (!ParseModuleHeader()) return false;
    } else {
      std::string set =
          i_ == 0 ? "{WHITESPACE, '#', 'module', 'model', NEWLINE}" : "{'#', 'module', 'model'}";
      bool at_start = i_ == 0;
      return Expected(
          [at_start](DslTok x) {
            return x == DslTok::kModel || x == DslTok::kModule || x == DslTok::kHash ||
                   (at_start && (x == DslTok::kWhitespace || x == DslTok::kNewline));
          },
          set);
    }
    bool seen_condition = false;
    while (!Is(DslTok::kEof)) {
      if (!Is(DslTok::kNewline)) {
        SyntaxError(Cur(),
                    "mismatched input '" + TokenDisplay(Cur()) + "' expecting {<EOF>, NEWLINE}");
        return false;
      }
      const DslToken& nl = Cur();
      Advance();
      if (Is(DslTok::kEof)) break;
      if (Is(DslTok::kHash)) {
        SkipComment();
        continue;
      }
      if ((Is(DslTok::kType) || Is(DslTok::kExtend)) && !seen_condition) {
        if (!ParseTypeDef()) return false;
      } else if (Is(DslTok::kCondition)) {
        if (!ParseCondition()) return false;
        seen_condition = true;
      } else {
        SyntaxError(Cur(), "no viable alternative at input '" + TokenDisplay(nl) +
                               TokenDisplay(Cur()) + "'");
        return false;
      }
    }
    return true;
  }

  void SkipComment() {
    while (!Is(DslTok::kNewline) && !Is(DslTok::kEof)) Advance();
  }

  bool ParseModelHeader() {
    Advance();  // model
    if (!ExpectToken(DslTok::kNewline, "NEWLINE")) return false;
    if (!ExpectToken(DslTok::kSchema, "'schema'")) return false;
    if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
    if (!Is(DslTok::kSchemaVersion)) {
      return Expected([](DslTok x) { return x == DslTok::kSchemaVersion; }, "SCHEMA_VERSION");
    }
    out_->model.schema_version = Cur().text;
    out_->model.schema_line = Cur().line;
    Advance();
    Accept(DslTok::kWhitespace);
    return true;
  }

  bool ParseModuleHeader() {
    Advance();  // module
    out_->is_module = true;
    if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
    if (!IsIdentifier(Cur().type)) {
      return Expected(IsIdentifier, std::string("{") +
                                        "IDENTIFIER, 'module', 'model', 'schema', "
                                        "'extend', 'type', 'relation'}");
    }
    out_->module_name = Cur().text;
    Advance();
    Accept(DslTok::kWhitespace);
    return true;
  }

  bool ParseTypeDef() {
    bool extension = false;
    if (Accept(DslTok::kExtend)) {
      extension = true;
      if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
      if (!ExpectToken(DslTok::kType, "'type'")) return false;
    } else {
      Advance();  // type
    }
    if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
    if (!IsExtendedIdentifier(Cur().type)) {
      return Expected(IsExtendedIdentifier, std::string("{") + kIdentSet + "}");
    }
    const DslToken& name = Cur();
    Advance();
    TypeDefinition td;
    td.type = name.text;
    td.line = name.line;
    td.extension = extension;
    if (extension) {
      if (!out_->is_module) {
        ParseSemanticError(name, "extend can only be used in a modular model");
      } else if (!extended_.insert(td.type).second) {
        ParseSemanticError(name, "'" + td.type + "' is already extended in file.");
      }
    }
    if (Is(DslTok::kNewline) && Peek(1).type == DslTok::kRelations) {
      Advance();
      Advance();
      int count = 0;
      while (Is(DslTok::kNewline)) {
        size_t save = i_;
        const DslToken& nl = Cur();
        Advance();
        while (Is(DslTok::kHash)) {
          SkipComment();
          if (!Accept(DslTok::kNewline)) break;
        }
        if (!Is(DslTok::kDefine)) {
          if (count == 0) {
            SyntaxError(Cur(), "no viable alternative at input '" + TokenDisplay(nl) +
                                   TokenDisplay(Cur()) + "'");
            return false;
          }
          i_ = save;
          break;
        }
        if (!ParseRelation(td)) return false;
        ++count;
      }
      if (count == 0) {
        SyntaxError(Cur(), "mismatched input '" + TokenDisplay(Cur()) + "' expecting NEWLINE");
        return false;
      }
    }
    out_->model.types.push_back(std::move(td));
    return true;
  }

  bool ParseRelation(TypeDefinition& td) {
    Advance();  // define
    if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
    if (!IsExtendedIdentifier(Cur().type)) {
      return Expected(IsExtendedIdentifier, std::string("{") + kIdentSet + "}");
    }
    const DslToken& name = Cur();
    Advance();
    Accept(DslTok::kWhitespace);
    if (!Is(DslTok::kColon)) {
      DslTok c = Cur().type;
      if (IsExtendedIdentifier(c) || c == DslTok::kLBracket || c == DslTok::kLParen) {
        SyntaxError(Cur(), "missing ':' at '" + TokenDisplay(Cur()) + "'");
        return false;
      }
      return Expected([](DslTok x) { return x == DslTok::kColon; }, "':'");
    }
    Advance();
    Accept(DslTok::kWhitespace);
    RelationDef rd;
    rd.name = name.text;
    rd.line = name.line;
    Userset rewrite;
    if (!ParseRelationDef(/*allow_direct=*/true, &rewrite, &rd.directly_related)) return false;
    rd.rewrite = std::move(rewrite);
    if (td.FindRelation(rd.name)) {
      ParseSemanticError(name, "'" + rd.name + "' is already defined in '" + td.type + "'");
      return true;
    }
    td.relations.push_back(std::move(rd));
    return true;
  }

  bool StartsGrouping() const { return IsExtendedIdentifier(Cur().type); }

  bool ParseRelationDef(bool allow_direct, Userset* out, std::vector<RelationReference>* direct) {
    Userset first;
    if (Is(DslTok::kLBracket) && allow_direct) {
      if (!ParseDirect(direct)) return false;
      first.kind = RewriteKind::kThis;
    } else if (Is(DslTok::kLParen)) {
      if (!ParseRecurse(allow_direct, &first, direct)) return false;
    } else if (StartsGrouping()) {
      if (!ParseRewrite(&first)) return false;
    } else {
      auto in_set = [allow_direct](DslTok x) {
        return IsExtendedIdentifier(x) || x == DslTok::kLParen ||
               (allow_direct && x == DslTok::kLBracket);
      };
      return Expected(in_set,
                      std::string("{") + (allow_direct ? "'[', " : "") + "'(', " + kIdentSet + "}");
    }
    std::vector<Userset> children;
    children.push_back(std::move(first));
    DslTok op = DslTok::kEof;
    while (Is(DslTok::kWhitespace)) {
      DslTok next = Peek(1).type;
      if (next != DslTok::kOr && next != DslTok::kAnd && next != DslTok::kButNot) break;
      if (op != DslTok::kEof && (next != op || op == DslTok::kButNot)) break;
      Advance();
      Advance();
      if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
      Userset child;
      if (Is(DslTok::kLParen)) {
        if (!ParseRecurse(false, &child, direct)) return false;
      } else if (StartsGrouping()) {
        if (!ParseRewrite(&child)) return false;
      } else {
        auto in_set = [](DslTok x) { return IsExtendedIdentifier(x) || x == DslTok::kLParen; };
        return Expected(in_set, std::string("{'(', ") + kIdentSet + "}");
      }
      children.push_back(std::move(child));
      op = next;
    }
    if (children.size() == 1) {
      *out = std::move(children[0]);
      return true;
    }
    out->kind = op == DslTok::kOr    ? RewriteKind::kUnion
                : op == DslTok::kAnd ? RewriteKind::kIntersection
                                     : RewriteKind::kDifference;
    out->children = std::move(children);
    return true;
  }

  bool ParseRecurse(bool allow_direct, Userset* out, std::vector<RelationReference>* direct) {
    Advance();  // (
    while (Accept(DslTok::kWhitespace)) {
    }
    if (!ParseRelationDef(allow_direct, out, direct)) return false;
    while (Accept(DslTok::kWhitespace)) {
    }
    if (!Accept(DslTok::kRParen)) {
      return Expected([](DslTok x) { return x == DslTok::kRParen || x == DslTok::kWhitespace; },
                      "{')', WHITESPACE}");
    }
    return true;
  }

  bool ParseRewrite(Userset* out) {
    out->relation = Cur().text;
    Advance();
    if (Is(DslTok::kWhitespace) && Peek(1).type == DslTok::kFrom) {
      Advance();
      Advance();
      if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
      if (!IsExtendedIdentifier(Cur().type)) {
        return Expected(IsExtendedIdentifier, std::string("{") + kIdentSet + "}");
      }
      out->kind = RewriteKind::kTupleToUserset;
      out->tupleset = Cur().text;
      Advance();
      return true;
    }
    out->kind = RewriteKind::kComputed;
    return true;
  }

  bool ParseDirect(std::vector<RelationReference>* direct) {
    Advance();  // [
    bool ws = Accept(DslTok::kWhitespace);
    while (true) {
      Accept(DslTok::kNewline);
      if (!IsExtendedIdentifier(Cur().type)) {
        auto in_set = [](DslTok x) { return IsExtendedIdentifier(x) || x == DslTok::kNewline; };
        return Expected(in_set,
                        std::string("{") + (ws ? "" : "WHITESPACE, ") + kIdentSet + ", NEWLINE}");
      }
      RelationReference ref;
      ref.type = Cur().text;
      Advance();
      if (Is(DslTok::kColon)) {
        Advance();
        if (!ExpectToken(DslTok::kStar, "'*'")) return false;
        ref.wildcard = true;
      } else if (Is(DslTok::kHash)) {
        Advance();
        if (!IsExtendedIdentifier(Cur().type)) {
          return Expected(IsExtendedIdentifier, std::string("{") + kIdentSet + "}");
        }
        ref.relation = Cur().text;
        Advance();
      }
      if (Is(DslTok::kWhitespace) && Peek(1).type == DslTok::kWith) {
        Advance();
        Advance();
        if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
        if (!Is(DslTok::kIdentifier)) {
          return Expected([](DslTok x) { return x == DslTok::kIdentifier; }, "IDENTIFIER");
        }
        ref.condition = Cur().text;
        Advance();
      }
      Accept(DslTok::kNewline);
      direct->push_back(std::move(ref));
      Accept(DslTok::kWhitespace);
      if (Accept(DslTok::kComma)) {
        ws = Accept(DslTok::kWhitespace);
        continue;
      }
      if (Accept(DslTok::kRBracket)) return true;
      return Expected(
          [](DslTok x) {
            return x == DslTok::kComma || x == DslTok::kWhitespace || x == DslTok::kRBracket;
          },
          "{',', WHITESPACE, ']'}");
    }
  }

  bool ParseParamType(ConditionParamType* out) {
    if (Is(DslTok::kParamType)) {
      ParseParamTypeDslName(Cur().text, &out->name);
      Advance();
      return true;
    }
    if (Is(DslTok::kParamContainer)) {
      ParseParamTypeDslName(Cur().text, &out->name);
      Advance();
      if (!ExpectToken(DslTok::kLess, "'<'")) return false;
      if (!Is(DslTok::kParamType)) {
        return Expected([](DslTok x) { return x == DslTok::kParamType; }, "CONDITION_PARAM_TYPE");
      }
      ConditionParamType inner;
      ParseParamTypeDslName(Cur().text, &inner.name);
      Advance();
      out->generic_types.push_back(inner);
      return ExpectToken(DslTok::kGreater, "'>'");
    }
    return Expected(
        [](DslTok x) { return x == DslTok::kParamType || x == DslTok::kParamContainer; },
        "{CONDITION_PARAM_CONTAINER, CONDITION_PARAM_TYPE}");
  }

  bool ParseCondition() {
    Advance();  // condition
    if (!ExpectToken(DslTok::kWhitespace, "WHITESPACE")) return false;
    if (!Is(DslTok::kIdentifier)) {
      return Expected([](DslTok x) { return x == DslTok::kIdentifier; }, "IDENTIFIER");
    }
    const DslToken& name = Cur();
    Advance();
    ConditionDef cond;
    cond.name = name.text;
    cond.line = name.line;
    Accept(DslTok::kWhitespace);
    if (!ExpectToken(DslTok::kLParen, "'('")) return false;
    std::set<std::string> seen;
    bool first = true;
    while (true) {
      bool ws = Accept(DslTok::kWhitespace);
      Accept(DslTok::kNewline);
      if (!Is(DslTok::kIdentifier)) {
        std::string set = first && !ws ? "{WHITESPACE, IDENTIFIER, NEWLINE}" : "IDENTIFIER";
        return Expected([](DslTok x) { return x == DslTok::kIdentifier; }, set);
      }
      first = false;
      const DslToken& pname = Cur();
      Advance();
      Accept(DslTok::kWhitespace);
      if (!ExpectToken(DslTok::kColon, "':'")) return false;
      Accept(DslTok::kWhitespace);
      ConditionParamType type;
      if (!ParseParamType(&type)) return false;
      if (!seen.insert(pname.text).second) {
        ParseSemanticError(pname, "parameter '" + pname.text +
                                      "' is already defined in the condition '" + cond.name + "'");
      } else {
        cond.parameters.emplace_back(pname.text, std::move(type));
      }
      Accept(DslTok::kWhitespace);
      if (Accept(DslTok::kComma)) continue;
      Accept(DslTok::kNewline);
      if (Accept(DslTok::kRParen)) break;
      return Expected([](DslTok x) { return x == DslTok::kComma || x == DslTok::kRParen; },
                      "{',', ')'}");
    }
    Accept(DslTok::kWhitespace);
    if (!ExpectToken(DslTok::kLBrace, "'{'")) return false;
    if (Is(DslTok::kConditionBody)) {
      std::string body = Cur().text;
      size_t b = body.find_first_not_of(" \t\r\n");
      size_t e = body.find_last_not_of(" \t\r\n");
      cond.expression = b == std::string::npos ? "" : body.substr(b, e - b + 1);
      Advance();
    }
    if (!ExpectToken(DslTok::kRBrace, "'}'")) return false;
    Accept(DslTok::kWhitespace);
    if (out_->model.FindCondition(cond.name)) {
      ParseSemanticError(name, "condition '" + cond.name + "' is already defined in the model");
      return true;
    }
    out_->model.conditions.push_back(std::move(cond));
    return true;
  }

  std::vector<DslToken> t_;
  size_t i_ = 0;
  DslParseResult* out_;
  bool syntax_failed_ = false;
  std::set<std::string> extended_;
};

}  // namespace

DslParseResult ParseDsl(std::string_view source) {
  DslParseResult result;
  result.lines = CleanDslLines(source);
  Parser parser(LexDsl(result.lines), &result);
  parser.Run();
  return result;
}

}  // namespace gh::authz
