// DslLexer: splits OpenFGA DSL text into tokens following OpenFGALexer.g4 (longest match, ties go
// to the earlier rule; keywords before identifiers). After `condition` it switches to the
// parameter-list mode of the grammar until `)`, and the body of a condition `{ ... }` becomes a
// single kConditionBody token (the CEL text, braces excluded) so that CEL is parsed elsewhere.
//
// Comments are removed before lexing as OpenFGA's transformer does: on every line, text from the
// first " #" on is dropped and trailing blanks are trimmed. Full-line comments starting in
// column 0 are kept and lexed as HASH ... (the grammar allows them). Positions are 0-based
// line/column in the cleaned text, which keeps the columns of everything before a comment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gh::authz {

enum class DslTok {
  kEof,
  kNewline,
  kWhitespace,
  kHash,
  kColon,
  kComma,
  kAnd,
  kOr,
  kButNot,
  kFrom,
  kModule,
  kModel,
  kSchema,
  kSchemaVersion,
  kExtend,
  kType,
  kCondition,
  kRelations,
  kRelation,
  kDefine,
  kWith,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLess,
  kGreater,
  kStar,
  kIdentifier,
  kExtendedIdentifier,
  kParamContainer,  // map / list (condition parameter mode)
  kParamType,       // bool, string, ... (condition parameter mode)
  kConditionBody,
  kOther,  // any other character sequence (numbers, operators outside conditions, ...)
};

struct DslToken {
  DslTok type = DslTok::kEof;
  std::string text;
  int line = 0;
  int col = 0;
};

// Returns the cleaned source lines (comments stripped, right-trimmed).
std::vector<std::string> CleanDslLines(std::string_view source);

std::vector<DslToken> LexDsl(const std::vector<std::string>& lines);

// ANTLR-style display of a token for error messages ("<EOF>", escapes \n, \t).
std::string TokenDisplay(const DslToken& t);

}  // namespace gh::authz
