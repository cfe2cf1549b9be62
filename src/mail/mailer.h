// Mailer: the seam for outbound email. OutboxMailer (the embedded default) writes one RFC 5322
// `.eml` file per message into a folder; SmtpMailer sends through an SMTP server with libcurl
// (STARTTLS required unless explicitly disabled). Both are thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::mail {

struct Message {
  std::string to;
  std::string subject;
  std::string text;  // plain-text body, UTF-8
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual Status Send(const Message& message) = 0;
};

// Builds the RFC 5322 text of a message (CRLF line endings).
std::string FormatRfc5322(const std::string& from, const Message& m, Timestamp date,
                          const std::string& message_id);

std::unique_ptr<Mailer> MakeOutboxMailer(std::filesystem::path folder, std::string from,
                                         const Clock& clock, Random& random);

struct SmtpOptions {
  std::string url;  // smtp://host:587 (STARTTLS) or smtps://host:465
  std::string from;
  std::string username;
  Secret password;
  bool require_tls = true;
  long timeout_seconds = 20;
};
std::unique_ptr<Mailer> MakeSmtpMailer(SmtpOptions options, const Clock& clock, Random& random);

// Sends through `inner` on a thread of its own, so a slow mail server never holds a request thread.
// Send() checks the message, queues it and returns at once: kResourceExhausted ("mail_queue_full")
// when `max_queued` messages are already waiting. A delivery that fails is logged (never with the
// message text, which may hold a code). Destroying it delivers what is queued, then stops.
std::unique_ptr<Mailer> MakeBackgroundMailer(std::unique_ptr<Mailer> inner,
                                             size_t max_queued = 1000);

}  // namespace gh::mail
