#include "mail/mailer.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/time_util.h"

namespace gh::mail {
namespace {

bool HeaderSafe(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

Status CheckMessage(const Message& m) {
  if (!HeaderSafe(m.to) || !HeaderSafe(m.subject) || m.to.find('@') == std::string::npos)
    return Status::InvalidArgument("invalid mail headers");
  return Status::Ok();
}

class OutboxMailer final : public Mailer {
 public:
  OutboxMailer(std::filesystem::path folder, std::string from, const Clock& clock, Random& random)
      : folder_(std::move(folder)), from_(std::move(from)), clock_(clock), random_(random) {}

  Status Send(const Message& m) override {
    GH_RETURN_IF_ERROR(CheckMessage(m));
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) return Status::Internal("cannot create outbox folder: " + ec.message());
    std::string id = random_.Token(9);
    Timestamp now = clock_.Now();
    std::lock_guard lock(mu_);
    // Names sort in send order: millisecond time plus a per-process sequence number.
    std::string name = fmt::format("{:013}-{:06}-{}.eml", ToUnixMillis(now), ++seq_, id);
    std::string tmp = (folder_ / (name + ".tmp")).string();
    {
      std::ofstream out(tmp, std::ios::binary);
      out << FormatRfc5322(from_, m, now, id + "@gatehouse.local");
      if (!out) return Status::Internal("cannot write outbox message");
    }
    std::filesystem::rename(tmp, folder_ / name, ec);
    if (ec) return Status::Internal("cannot write outbox message: " + ec.message());
    return Status::Ok();
  }

 private:
  std::filesystem::path folder_;
  std::string from_;
  const Clock& clock_;
  Random& random_;
  std::mutex mu_;
  uint64_t seq_ = 0;
};

struct Upload {
  std::string data;
  size_t offset = 0;
};

size_t ReadUpload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t len = std::min(size * n, u->data.size() - u->offset);
  std::memcpy(buf, u->data.data() + u->offset, len);
  u->offset += len;
  return len;
}

class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(SmtpOptions o, const Clock& clock, Random& random)
      : opt_(std::move(o)), clock_(clock), random_(random) {}

  Status Send(const Message& m) override {
    GH_RETURN_IF_ERROR(CheckMessage(m));
    Upload up{FormatRfc5322(opt_.from, m, clock_.Now(), random_.Token(9) + "@gatehouse.local"), 0};
    CURL* curl = curl_easy_init();
    if (!curl) return Status::Internal("curl init failed");
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.to + ">").c_str());
    curl_easy_setopt(curl, CURLOPT_URL, opt_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, ("<" + opt_.from + ">").c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     opt_.require_tls ? long(CURLUSESSL_ALL) : long(CURLUSESSL_TRY));
    if (!opt_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, opt_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, opt_.password.reveal().c_str());
    }
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, opt_.timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK)
      return Status::Unavailable(std::string("SMTP send failed: ") + curl_easy_strerror(rc),
                                 "mail_failed");
    return Status::Ok();
  }

 private:
  SmtpOptions opt_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace

class BackgroundMailer final : public Mailer {
 public:
  BackgroundMailer(std::unique_ptr<Mailer> inner, size_t max_queued)
      : inner_(std::move(inner)), max_queued_(max_queued), worker_([this] { Run(); }) {}
  ~BackgroundMailer() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    worker_.join();
  }

  Status Send(const Message& m) override {
    GH_RETURN_IF_ERROR(CheckMessage(m));
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= max_queued_)
        return Status::ResourceExhausted("too many messages are waiting to be sent",
                                         "mail_queue_full");
      queue_.push_back(m);
    }
    cv_.notify_one();
    return Status::Ok();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything was delivered
      Message m = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      Status st = inner_->Send(m);
      if (!st.ok()) log::Error("mail delivery failed", {{"error", st.message()}});
      lock.lock();
    }
  }

  std::unique_ptr<Mailer> inner_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last: starts once everything above exists
};

std::string FormatRfc5322(const std::string& from, const Message& m, Timestamp date,
                          const std::string& message_id) {
  std::string body;
  for (char c : m.text) {
    if (c == '\n')
      body += "\r\n";
    else if (c != '\r')
      body += c;
  }
  return fmt::format(
      "From: Gatehouse <{}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: "
      "<{}>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
      from, m.to, m.subject, FormatHttpDate(date), message_id, body);
}

std::unique_ptr<Mailer> MakeOutboxMailer(std::filesystem::path folder, std::string from,
                                         const Clock& clock, Random& random) {
  return std::make_unique<OutboxMailer>(std::move(folder), std::move(from), clock, random);
}

std::unique_ptr<Mailer> MakeBackgroundMailer(std::unique_ptr<Mailer> inner, size_t max_queued) {
  return std::make_unique<BackgroundMailer>(std::move(inner), max_queued);
}

std::unique_ptr<Mailer> MakeSmtpMailer(SmtpOptions options, const Clock& clock, Random& random) {
  return std::make_unique<SmtpMailer>(std::move(options), clock, random);
}

}  // namespace gh::mail
