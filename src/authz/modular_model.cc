#include "authz/modular_model.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "authz/dsl_parser.h"
#include "authz/model_validate.h"

namespace gh::authz {
namespace {

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    lines.emplace_back(
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

// The source span of a scalar node: quoted scalars include their quotes.
FgaModValue Span(const YAML::Node& node, const std::vector<std::string>& lines) {
  FgaModValue v;
  YAML::Mark mark = node.Mark();
  v.line_start = v.line_end = mark.line;
  v.col_start = mark.column;
  v.value = node.IsScalar() ? node.Scalar() : "";
  int len = static_cast<int>(v.value.size());
  if (mark.line >= 0 && mark.line < static_cast<int>(lines.size())) {
    const std::string& line = lines[static_cast<size_t>(mark.line)];
    if (mark.column < static_cast<int>(line.size())) {
      char q = line[static_cast<size_t>(mark.column)];
      if (q == '"' || q == '\'') {
        size_t close = line.find(q, static_cast<size_t>(mark.column) + 1);
        if (close != std::string::npos) len = static_cast<int>(close) - mark.column + 1;
      }
    }
  }
  v.col_end = v.col_start + len;
  return v;
}

bool IsPlainString(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  if (node.Tag() == "!") return true;  // quoted
  const std::string& s = node.Scalar();
  if (s == "true" || s == "false" || s == "True" || s == "False" || s == "TRUE" || s == "FALSE" ||
      s == "null" || s == "~" || s.empty()) {
    return false;
  }
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return *end != '\0';
}

ModelError ModError(std::string msg, const FgaModValue& at) {
  ModelError e;
  e.message = std::move(msg);
  e.line = at.line_start;
  e.col_start = at.col_start;
  e.col_end = at.col_end;
  return e;
}

bool IsInvalidPath(const std::string& raw) {
  std::string decoded;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      decoded += static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += raw[i];
    }
  }
  if (decoded.empty() || decoded[0] == '/' || decoded[0] == '\\') return true;
  for (char& c : decoded) {
    if (c == '\\') c = '/';
  }
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t slash = decoded.find('/', start);
    std::string seg =
        decoded.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == "..") return true;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return false;
}

ModelError FileError(const std::string& file, std::string msg, int line, int col_start,
                     int col_end) {
  ModelError e;
  e.file = file;
  e.message = std::move(msg);
  e.line = line;
  e.col_start = col_start;
  e.col_end = col_end;
  return e;
}

int ColumnOf(const std::vector<std::string>& lines, int line, const std::string& word) {
  if (line < 0 || line >= static_cast<int>(lines.size())) return 0;
  const std::string& l = lines[static_cast<size_t>(line)];
  // The name follows a keyword (type / condition / define): search after it.
  size_t kw = l.find_first_not_of(" \t");
  size_t pos = l.find(word, kw == std::string::npos ? 0 : l.find(' ', kw));
  return pos == std::string::npos ? 0 : static_cast<int>(pos);
}

}  // namespace

FgaModResult ParseFgaMod(std::string_view text) {
  FgaModResult r;
  std::vector<std::string> lines = SplitLines(text);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    ModelError err;
    err.message = std::string("invalid fga.mod: ") + e.what();
    err.line = e.mark.line;
    err.col_start = err.col_end = e.mark.column;
    r.errors.push_back(std::move(err));
    return r;
  }
  if (!root.IsMap()) {
    r.errors.push_back(ModError("fga.mod must be a YAML mapping", FgaModValue{}));
    return r;
  }
  YAML::Node schema = root["schema"];
  if (!schema) {
    r.errors.push_back(ModError("missing schema field", FgaModValue{}));
  } else {
    FgaModValue v = Span(schema, lines);
    if (!IsPlainString(schema)) {
      r.errors.push_back(
          ModError("unexpected schema type, expected string got value " + v.value, v));
    } else if (v.value != "1.2") {
      r.errors.push_back(
          ModError("unsupported schema version, fga.mod only supported in version `1.2`", v));
    } else {
      r.mod.schema = v;
    }
  }
  YAML::Node contents = root["contents"];
  if (!contents) {
    r.errors.push_back(ModError("missing contents field", FgaModValue{}));
    return r;
  }
  if (!contents.IsSequence()) {
    FgaModValue v = Span(contents, lines);
    r.errors.push_back(
        ModError("unexpected contents type, expected list of strings got value " + v.value, v));
    return r;
  }
  r.mod.contents_line_start = contents.Mark().line;
  r.mod.contents_col_start = contents.Mark().column;
  int last_line = r.mod.contents_line_start;
  for (const auto& item : contents) {
    FgaModValue v = Span(item, lines);
    last_line = v.line_start;
    if (!IsPlainString(item)) {
      r.errors.push_back(
          ModError("unexpected contents item type, expected string got value " + v.value, v));
      continue;
    }
    if (v.value.size() < 4 || v.value.compare(v.value.size() - 4, 4, ".fga") != 0) {
      r.errors.push_back(
          ModError("contents items should use fga file extension, got " + v.value, v));
      continue;
    }
    if (IsInvalidPath(v.value)) {
      r.errors.push_back(ModError("invalid contents item " + v.value, v));
      continue;
    }
    r.mod.contents.push_back(std::move(v));
  }
  r.mod.contents_line_end = last_line + 1;
  r.mod.contents_col_end = 0;
  return r;
}

CombineResult CombineModules(const std::vector<ModuleFile>& files) {
  CombineResult out;
  out.model.schema_version = "1.2";
  SourceLines lines;
  struct Extension {
    std::string file;
    std::string module;
    TypeDefinition def;
  };
  std::vector<Extension> extensions;
  std::set<std::string> type_names;
  for (const auto& file : files) {
    DslParseResult parsed = ParseDsl(file.contents);
    lines[file.name] = parsed.lines;
    if (!parsed.errors.empty()) {
      for (auto e : parsed.errors) {
        e.file = file.name;
        out.errors.push_back(std::move(e));
      }
      continue;
    }
    if (!parsed.is_module) {
      out.errors.push_back(FileError(file.name, "file is not a module", 0, 0, 0));
      continue;
    }
    SourceInfo source{parsed.module_name, file.name};
    for (auto& td : parsed.model.types) {
      td.source_file = file.name;
      for (auto& rd : td.relations) rd.source_file = file.name;
      if (td.extension) {
        extensions.push_back(Extension{file.name, parsed.module_name, std::move(td)});
        continue;
      }
      if (!type_names.insert(td.type).second) {
        int col = ColumnOf(parsed.lines, td.line, td.type);
        out.errors.push_back(FileError(file.name, "duplicate type definition " + td.type, td.line,
                                       col, col + static_cast<int>(td.type.size())));
        continue;
      }
      td.source = source;
      td.extension = false;
      out.model.types.push_back(std::move(td));
    }
    for (auto& c : parsed.model.conditions) {
      c.source_file = file.name;
      if (out.model.FindCondition(c.name)) {
        int col = ColumnOf(parsed.lines, c.line, c.name);
        out.errors.push_back(FileError(file.name, "duplicate condition " + c.name, c.line, col,
                                       col + static_cast<int>(c.name.size())));
        continue;
      }
      c.source = source;
      out.model.conditions.push_back(std::move(c));
    }
  }
  for (auto& ext : extensions) {
    TypeDefinition* original = nullptr;
    for (auto& td : out.model.types) {
      if (td.type == ext.def.type) original = &td;
    }
    const auto& file_lines = lines[ext.file];
    if (!original) {
      int col = ColumnOf(file_lines, ext.def.line, ext.def.type);
      out.errors.push_back(FileError(ext.file, "extended type " + ext.def.type + " does not exist",
                                     ext.def.line, col,
                                     col + static_cast<int>(ext.def.type.size())));
      continue;
    }
    for (auto& rd : ext.def.relations) {
      if (original->FindRelation(rd.name)) {
        int col = ColumnOf(file_lines, rd.line, rd.name);
        out.errors.push_back(
            FileError(ext.file, "relation " + rd.name + " already exists on type " + ext.def.type,
                      rd.line, col, col + static_cast<int>(rd.name.size())));
        continue;
      }
      rd.source = SourceInfo{ext.module, ext.file};
      original->relations.push_back(std::move(rd));
    }
  }
  auto validation = ValidateModel(out.model, &lines);
  for (auto& e : validation) out.errors.push_back(std::move(e));
  return out;
}

std::vector<std::string> ModulesOf(const Model& model) {
  std::set<std::string> names;
  for (const auto& td : model.types) {
    if (!td.source.module.empty()) names.insert(td.source.module);
    for (const auto& rd : td.relations) {
      if (!rd.source.module.empty()) names.insert(rd.source.module);
    }
  }
  for (const auto& c : model.conditions) {
    if (!c.source.module.empty()) names.insert(c.source.module);
  }
  return {names.begin(), names.end()};
}

}  // namespace gh::authz
