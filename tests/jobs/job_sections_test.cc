// Job config sections: bad values fail with one error naming the field.
#include "jobs/job_sections.h"

#include "gtest/gtest.h"

namespace lockstep::jobs {
namespace {

std::string ErrorOf(const std::string& toml) {
  auto config = config::Config::FromString(toml, "job.toml");
  EXPECT_TRUE(config.ok()) << config.status();
  auto actor = ReadActorSection(*config);
  if (!actor.ok()) return std::string(actor.status().message());
  auto adv = ReadAdvantageEstimator(*config);
  if (!adv.ok()) return std::string(adv.status().message());
  auto trainer = ReadTrainerSections(*config, 10);
  if (!trainer.ok()) return std::string(trainer.status().message());
  auto model = ReadModelSection(*config);
  if (!model.ok()) return std::string(model.status().message());
  auto weights = BuildModelWeights(*model, DType::kBF16);
  if (!weights.ok()) return std::string(weights.status().message());
  return "";
}

TEST(JobSections, DefaultsAreValid) { EXPECT_EQ(ErrorOf(""), ""); }

TEST(JobSections, BadValuesNameTheField) {
  EXPECT_NE(ErrorOf("[actor]\npolicy_loss = \"ppo2\"\n").find("actor.policy_loss"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[actor]\nclip_low = -0.2\n").find("actor.clip_low"), std::string::npos);
  EXPECT_NE(ErrorOf("[actor]\nclip_high = -1.0\n").find("actor.clip_high"), std::string::npos);
  EXPECT_NE(ErrorOf("[actor]\nloss_agg_mode = \"sum\"\n").find("actor.loss_agg_mode"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[actor]\nkl_estimator = \"k4\"\n").find("actor.kl_estimator"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[algorithm]\nadvantage = \"gae\"\n").find("algorithm.advantage"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[optim]\nlr = -1.0\n").find("optim.lr"), std::string::npos);
  EXPECT_NE(ErrorOf("[optim]\nschedule = \"linear\"\n").find("optim.schedule"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[train]\nmicro_batch = 0\n").find("train.micro_batch"), std::string::npos);
  EXPECT_NE(ErrorOf("[model]\nnum_heads = 3\nnum_kv_heads = 2\n").find("num_kv_heads"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[model]\ninit_from = \"/no/such/model\"\n").find("/no/such/model"),
            std::string::npos);
  // An architecture key next to init_from would silently lose to its config.json.
  const std::string both = ErrorOf("[model]\ninit_from = \"some/dir\"\nhidden_size = 64\n");
  EXPECT_NE(both.find("model.hidden_size"), std::string::npos) << both;
  EXPECT_NE(both.find("model.init_from"), std::string::npos) << both;
}

}  // namespace
}  // namespace lockstep::jobs
