#include "aws/bedrock_shapes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gh::aws::bedrock {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

const fs::path kServiceModel =
    fs::path(GH_SHARED_TESTDATA) / "bedrock" / "bedrock-runtime-service-2.json";

using Names = std::set<std::string>;

template <typename Container>
Names ToSet(const Container& c) {
  return Names(c.begin(), c.end());
}

// Reads the service model once; Boost.JSON accessor exceptions become test failures.
class BedrockShapesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kServiceModel)) {
      GTEST_SKIP() << "Bedrock Runtime service model not found at " << kServiceModel;
    }
    std::ifstream in(kServiceModel);
    std::ostringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    model_ = bj::parse(ss.str(), ec);
    ASSERT_FALSE(ec) << "cannot parse " << kServiceModel << ": " << ec.message();
    ASSERT_TRUE(model_.is_object());
  }

  // Runs `body`, turning a Boost.JSON shape mismatch into a failure.
  template <typename F>
  void Guarded(F body) {
    try {
      body();
    } catch (const std::exception& e) {
      FAIL() << "service model does not have the expected shape: " << e.what();
    }
  }

  const bj::object& Shape(std::string_view name) {
    return model_.at("shapes").at(name).as_object();
  }

  Names Members(std::string_view shape) {
    Names out;
    for (const auto& [name, member] : Shape(shape).at("members").as_object()) {
      out.insert(std::string(name));
    }
    return out;
  }

  bool IsException(const bj::value& member) {
    const bj::object& target = Shape(member.at("shape").as_string());
    const bj::value* flag = target.if_contains("exception");
    return flag != nullptr && flag->is_bool() && flag->get_bool();
  }

  bj::value model_;
};

TEST_F(BedrockShapesTest, SigningNameAndEndpointPrefixMatchTheModel) {
  Guarded([&] {
    EXPECT_EQ(model_.at("metadata").at("signingName").as_string(), kSigningName);
    EXPECT_EQ(model_.at("metadata").at("endpointPrefix").as_string(), kEndpointPrefix);
  });
}

TEST_F(BedrockShapesTest, EveryStopReasonInTheModelIsHandled) {
  Guarded([&] {
    Names model;
    for (const bj::value& v : Shape("StopReason").at("enum").as_array()) {
      model.insert(std::string(v.as_string()));
    }
    EXPECT_EQ(ToSet(kStopReasons), model);
  });
}

TEST_F(BedrockShapesTest, ConverseStreamEventsAndExceptionsAreComplete) {
  Guarded([&] {
    Names events, exceptions;
    for (const auto& [name, member] : Shape("ConverseStreamOutput").at("members").as_object()) {
      (IsException(member) ? exceptions : events).insert(std::string(name));
    }
    EXPECT_EQ(ToSet(kConverseStreamEvents), events);
    EXPECT_EQ(ToSet(kConverseStreamExceptions), exceptions);
    for (std::string_view required :
         {"internalServerException", "modelStreamErrorException", "validationException",
          "throttlingException", "serviceUnavailableException"}) {
      EXPECT_TRUE(IsConverseStreamException(required)) << required;
    }
    EXPECT_FALSE(IsConverseStreamException("messageStop"));
  });
}

TEST_F(BedrockShapesTest, ContentBlockUnionsAreComplete) {
  Guarded([&] {
    EXPECT_EQ(ToSet(kContentBlockDeltaMembers), Members("ContentBlockDelta"));
    EXPECT_EQ(ToSet(kContentBlockStartMembers), Members("ContentBlockStart"));
  });
}

TEST_F(BedrockShapesTest, ConverseAndConverseStreamErrorsAndTheirStatusesMatchTheModel) {
  Guarded([&] {
    std::map<std::string, int> ours;
    for (const OperationError& e : kConverseErrors) ours[std::string(e.shape)] = e.http_status;
    for (std::string_view op : {"Converse", "ConverseStream"}) {
      SCOPED_TRACE(op);
      std::map<std::string, int> model;
      for (const bj::value& err : model_.at("operations").at(op).at("errors").as_array()) {
        const std::string name(err.at("shape").as_string());
        model[name] =
            static_cast<int>(Shape(name).at("error").at("httpStatusCode").to_number<int64_t>());
      }
      EXPECT_EQ(ours, model);
    }
    EXPECT_EQ(ConverseErrorHttpStatus("ModelErrorException"), 424);
    EXPECT_EQ(ConverseErrorHttpStatus("NoSuchException"), std::nullopt);
  });
}

TEST(StopReasonTest, NamesRoundTripAndUnknownReasonsAreNotErrors) {
  for (std::string_view name : kStopReasons) {
    auto parsed = ParseStopReason(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(StopReasonName(*parsed), name);
  }
  EXPECT_EQ(ParseStopReason("end_turn"), StopReason::kEndTurn);
  EXPECT_EQ(ParseStopReason("a_reason_aws_adds_next_year"), std::nullopt);
}

}  // namespace
}  // namespace gh::aws::bedrock
