// Placeholder rewriting for the PostgreSQL backend: the portable SQL of the repositories uses `?`,
// PostgreSQL numbers its parameters `$1..$n`. Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gh::storage {

// Replaces each `?` that stands for a parameter with $1, $2, ... in order, and sets *count to the
// number of parameters. A `?` inside a '...' string (also E'...' with backslash escapes), a "..."
// identifier, a $tag$...$tag$ string, or a -- or /* */ comment is left alone. PostgreSQL's
// jsonb operators `?`, `?|`, `?&` are not portable and would be taken for parameters.
std::string ToPostgresPlaceholders(std::string_view sql, int* count = nullptr);

}  // namespace gh::storage
