#include "storage/postgres_placeholders.h"

#include <gtest/gtest.h>

namespace gh::storage {
namespace {

TEST(PostgresPlaceholdersTest, NumbersEachParameterInOrder) {
  int n = -1;
  EXPECT_EQ(ToPostgresPlaceholders("UPDATE t SET a = ? WHERE b = ? AND c + ? <= ?", &n),
            "UPDATE t SET a = $1 WHERE b = $2 AND c + $3 <= $4");
  EXPECT_EQ(n, 4);
  EXPECT_EQ(ToPostgresPlaceholders("SELECT 1", &n), "SELECT 1");
  EXPECT_EQ(n, 0);
  EXPECT_EQ(ToPostgresPlaceholders("VALUES (?,?)"), "VALUES ($1,$2)");
}

TEST(PostgresPlaceholdersTest, LeavesQuestionMarksInsideStringsAndIdentifiersAlone) {
  EXPECT_EQ(ToPostgresPlaceholders("SELECT 'a?b', ? FROM \"odd?name\" WHERE x = ?"),
            "SELECT 'a?b', $1 FROM \"odd?name\" WHERE x = $2");
  // '' is an escaped quote inside a standard string.
  EXPECT_EQ(ToPostgresPlaceholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
  EXPECT_EQ(ToPostgresPlaceholders("SELECT '', ?"), "SELECT '', $1");
  // E'' strings take backslash escapes; a plain string does not.
  EXPECT_EQ(ToPostgresPlaceholders("SELECT E'\\' ?', ?"), "SELECT E'\\' ?', $1");
  EXPECT_EQ(ToPostgresPlaceholders("SELECT '\\', ?"), "SELECT '\\', $1");
  // An identifier ending in e before a quote is not an E string.
  EXPECT_EQ(ToPostgresPlaceholders("SELECT 1 AS type'\\', ?"), "SELECT 1 AS type'\\', $1");
}

TEST(PostgresPlaceholdersTest, LeavesCommentsAndDollarQuotesAlone) {
  EXPECT_EQ(ToPostgresPlaceholders("SELECT ? -- why?\n, ?"), "SELECT $1 -- why?\n, $2");
  EXPECT_EQ(ToPostgresPlaceholders("SELECT /* a /* nested? */ still? */ ?"),
            "SELECT /* a /* nested? */ still? */ $1");
  EXPECT_EQ(ToPostgresPlaceholders("SELECT $$ ? $$, $fn$ '? $fn$, ?"),
            "SELECT $$ ? $$, $fn$ '? $fn$, $1");
  // Already numbered parameters are not dollar quotes.
  EXPECT_EQ(ToPostgresPlaceholders("SELECT $1, ?"), "SELECT $1, $1");
}

TEST(PostgresPlaceholdersTest, UnterminatedQuotesRunToTheEnd) {
  EXPECT_EQ(ToPostgresPlaceholders("SELECT ?, 'oops ?"), "SELECT $1, 'oops ?");
  EXPECT_EQ(ToPostgresPlaceholders("SELECT ? /* open ?"), "SELECT $1 /* open ?");
}

}  // namespace
}  // namespace gh::storage
