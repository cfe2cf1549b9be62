#include "authz/errors.h"

namespace gh::authz::errors {

Status ValidationError(std::string message) {
  return Status::InvalidArgument(std::move(message), "validation_error");
}

Status InvalidAuthorizationModel(std::string message) {
  return Status::InvalidArgument(std::move(message), "invalid_authorization_model");
}

Status TypeNotFound(std::string_view type) {
  return Status::InvalidArgument("type '" + std::string(type) + "' not found", "type_not_found");
}

Status RelationNotFound(std::string_view relation, std::string_view type) {
  return Status::InvalidArgument(
      "relation '" + std::string(type) + "#" + std::string(relation) + "' not found",
      "relation_not_found");
}

Status InvalidTuple(std::string_view tuple, std::string_view reason) {
  return Status::InvalidArgument(
      "Invalid tuple '" + std::string(tuple) + "'. Reason: " + std::string(reason),
      "invalid_tuple");
}

Status WriteFailedDueToInvalidInput(std::string message) {
  return Status::InvalidArgument(std::move(message), "write_failed_due_to_invalid_input");
}

Status DuplicateTupleInRequest(std::string_view tuple) {
  return Status::InvalidArgument("duplicate tuple in write: " + std::string(tuple),
                                 "cannot_allow_duplicate_tuples_in_one_request");
}

Status InvalidContinuationToken() {
  return Status::InvalidArgument("Invalid continuation token", "invalid_continuation_token");
}

Status ExceededEntityLimit(std::string message) {
  return Status::InvalidArgument(std::move(message), "exceeded_entity_limit");
}

Status ResolutionTooComplex() {
  return Status::InvalidArgument(
      "Authorization Model resolution required too many rewrite rules to be resolved. Check your "
      "authorization model for infinite recursion or too much nesting",
      "authorization_model_resolution_too_complex");
}

Status ConditionEvaluationFailed(std::string message) {
  return Status::InvalidArgument(std::move(message), "validation_error");
}

Status StoreNotFound(std::string_view store_id) {
  return Status::NotFound("store '" + std::string(store_id) + "' not found", "store_id_not_found");
}

Status ModelNotFound(std::string_view model_id) {
  return Status::NotFound("Authorization Model '" + std::string(model_id) + "' not found",
                          "authorization_model_not_found");
}

Status LatestModelNotFound(std::string_view store_id) {
  return Status::NotFound("No authorization models found for store '" + std::string(store_id) + "'",
                          "latest_authorization_model_not_found");
}

Status Internal(std::string message) {
  return Status::Internal(std::move(message), "internal_error");
}

}  // namespace gh::authz::errors
