#include "actors/fan_out.h"

namespace mg {

namespace {
struct FanOutState {
  std::vector<std::string> answers;
  size_t left = 0;
  static inline const char* name = "fan_out";
};
}  // namespace

void fan_out(caf::actor_system& sys, std::vector<caf::actor> targets, caf::message question,
             Combine combine, std::shared_ptr<ReplySink> sink, Route route) {
  sys.spawn([targets = std::move(targets), question = std::move(question),
             combine = std::move(combine), sink = std::move(sink),
             route = std::move(route)](caf::stateful_actor<FanOutState>* self) {
    auto& st = self->state;
    st.answers.resize(targets.size());
    st.left = targets.size();
    auto finish = [=] {
      sink->reply(route, combine(self->state.answers));
      self->quit();
    };
    if (targets.empty()) {
      finish();
      return;
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      self->request(targets[i], caf::infinite, question)
          .then(
              [=](const std::string& answer) {
                self->state.answers[i] = answer;
                if (--self->state.left == 0) finish();
              },
              [=](caf::error&) {
                if (--self->state.left == 0) finish();
              });
    }
  });
}

}  // namespace mg
