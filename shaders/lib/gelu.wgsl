// GELU, exact (erf) form as torch.nn.functional.gelu, and its derivative.

// #include erf.wgsl

fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
}

// d/dx gelu(x) = Φ(x) + x·φ(x)
fn gelu_grad(x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}
