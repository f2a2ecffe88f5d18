// AdamW, clipping, schedules and loss scaling against hand-computed values.
#include "trainer/optimizer.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace lockstep::trainer {
namespace {

TEST(AdamW, FirstStepMovesEachWeightByLrTimesSign) {
  // With bias correction, the first Adam step is lr * g / (|g| + eps').
  OptimizerConfig config;
  config.lr = 0.1;
  config.max_grad_norm = 0.0;
  AdamW opt(config);
  std::vector<Parameter> params(1);
  params[0].master = {1.0f, -2.0f, 0.5f};
  params[0].grad = {0.3f, -4.0f, 0.0f};
  const StepStats stats = opt.Step(params);
  EXPECT_FALSE(stats.skipped);
  EXPECT_NEAR(stats.grad_norm, std::sqrt(0.09 + 16.0), 1e-6);
  EXPECT_NEAR(params[0].master[0], 0.9f, 1e-6);
  EXPECT_NEAR(params[0].master[1], -1.9f, 1e-6);
  EXPECT_EQ(params[0].master[2], 0.5f);
  EXPECT_EQ(params[0].grad[0], 0.0f);  // gradients are consumed
  EXPECT_EQ(opt.step(), 1);
}

TEST(AdamW, ClipsToMaxNormAndDecaysOnlyDecayedParams) {
  OptimizerConfig config;
  config.lr = 0.01;
  config.weight_decay = 0.5;
  config.max_grad_norm = 1.0;
  AdamW opt(config);
  std::vector<Parameter> params(2);
  params[0].master = {1.0f};
  params[0].grad = {0.0f};
  params[1].master = {1.0f};
  params[1].grad = {0.0f};
  params[1].decay = false;
  opt.Step(params);
  EXPECT_NEAR(params[0].master[0], 1.0 - 0.01 * 0.5, 1e-7);
  EXPECT_EQ(params[1].master[0], 1.0f);
}

TEST(AdamW, NonFiniteGradientSkipsTheStep) {
  AdamW opt(OptimizerConfig{});
  std::vector<Parameter> params(1);
  params[0].master = {1.0f, 2.0f};
  params[0].grad = {std::numeric_limits<float>::infinity(), 1.0f};
  const StepStats stats = opt.Step(params, 1024.0);
  EXPECT_TRUE(stats.skipped);
  EXPECT_EQ(params[0].master[0], 1.0f);
  EXPECT_EQ(params[0].master[1], 2.0f);
  EXPECT_EQ(opt.step(), 0);
}

TEST(AdamW, GradScaleIsDividedOut) {
  OptimizerConfig config;
  config.max_grad_norm = 0.0;
  AdamW a(config), b(config);
  std::vector<Parameter> pa(1), pb(1);
  pa[0].master = pb[0].master = {1.0f};
  pa[0].grad = {0.25f};
  pb[0].grad = {0.25f * 1024.0f};
  EXPECT_DOUBLE_EQ(a.Step(pa).grad_norm, b.Step(pb, 1024.0).grad_norm);
  EXPECT_EQ(pa[0].master[0], pb[0].master[0]);
}

TEST(Schedules, WarmupAndCosine) {
  OptimizerConfig config;
  config.lr = 1.0;
  config.schedule = LrSchedule::kCosine;
  config.warmup_steps = 4;
  config.total_steps = 14;
  config.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(config.LearningRate(0), 0.25);
  EXPECT_DOUBLE_EQ(config.LearningRate(3), 1.0);
  EXPECT_DOUBLE_EQ(config.LearningRate(4), 1.0);
  EXPECT_NEAR(config.LearningRate(9), 0.1 + 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(config.LearningRate(14), 0.1, 1e-12);
  config.schedule = LrSchedule::kConstant;
  EXPECT_DOUBLE_EQ(config.LearningRate(0), 1.0);
  EXPECT_FALSE(ParseLrSchedule("linear").ok());
  config.lr = -1;
  EXPECT_NE(config.Validate().message().find("optim.lr"), std::string::npos);
}

TEST(LossScaler, BacksOffOnOverflowAndGrows) {
  LossScaler scaler(true, 1024.0, 2);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 512.0);
  scaler.Update(false);
  EXPECT_EQ(scaler.scale(), 512.0);
  scaler.Update(false);
  EXPECT_EQ(scaler.scale(), 1024.0);
  LossScaler restored(true);
  ASSERT_TRUE(restored.FromJson(scaler.ToJson()).ok());
  EXPECT_EQ(restored.scale(), 1024.0);
  LossScaler bf16(false);
  bf16.Update(true);
  EXPECT_EQ(bf16.scale(), 1.0);
}

}  // namespace
}  // namespace lockstep::trainer
