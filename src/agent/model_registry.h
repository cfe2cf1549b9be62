// ModelRegistry: the models this deployment can use, by the name plans and requests refer to, each
// bound to a provider and that provider's own model id. Immutable after start-up; shared.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/model.h"

namespace gh::agent {

struct ModelEntry {
  std::string name;               // what plans and clients say, e.g. "offline", "gpt-4o-mini"
  std::string provider_model_id;  // what the provider is asked for
  std::shared_ptr<Model> model;
};

class ModelRegistry {
 public:
  void Add(ModelEntry entry) { entries_[entry.name] = std::move(entry); }
  const ModelEntry* Find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : entries_) out.push_back(k);
    return out;
  }
  void set_default(std::string name) { default_ = std::move(name); }
  const std::string& default_name() const { return default_; }

 private:
  std::map<std::string, ModelEntry> entries_;
  std::string default_ = "offline";
};

}  // namespace gh::agent
