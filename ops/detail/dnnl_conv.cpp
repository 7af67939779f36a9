#include "dnnl_conv.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include "dnnl_primitives.hpp"

namespace tg::detail {

#ifdef TG_HAVE_DNNL
namespace {

using namespace dnnl_support;

std::shared_ptr<const Convolution> built(const ConvPlan& p, const char* what) {
  std::shared_ptr<const Convolution> c = convolution(p);
  if (!c) throw std::logic_error(std::string(what) + ": called for a plan dnnl_convolves rejects");
  return c;
}

}  // namespace

bool dnnl_convolves(const ConvPlan& p) { return convolution(p) != nullptr; }

void dnnl_convolution_forward(const ConvPlan& p, const float* x, const float* w, const float* bias, float* y) {
  const auto c = built(p, "dnnl_convolution_forward");
  dnnl::stream stream(cpu_engine());
  std::unique_ptr<float[]> zeros;
  if (!bias) bias = (zeros = std::unique_ptr<float[]>(new float[p.O]())).get();
  const memory xm = c->forward_x.bring_in(x, Workspace::kInput, stream),
               wm = c->forward_w.bring_in(w, Workspace::kWeights, stream);
  const memory ym = c->forward_y.target(y, Workspace::kOutput);
  run(c->forward, c->forward_scratchpad,
      {{DNNL_ARG_SRC, xm},
       {DNNL_ARG_WEIGHTS, wm},
       {DNNL_ARG_BIAS, memory(c->bias, cpu_engine(), const_cast<float*>(bias))},
       {DNNL_ARG_DST, ym}},
      stream);
  c->forward_y.send_out(ym, y, stream);
  stream.wait();
}

void dnnl_convolution_backward(const ConvPlan& p, const float* x, const float* w, const float* dy, float* dx, float* dw,
                               float* db) {
  const auto c = built(p, "dnnl_convolution_backward");
  dnnl::stream stream(cpu_engine());
  memory dym;  // dy as the data gradient takes it, reused by the weight gradient when it takes the same
  if (dx) {
    dym = c->data_dy.bring_in(dy, Workspace::kOutput, stream);
    const memory wm = c->data_w.bring_in(w, Workspace::kWeights, stream);
    const memory dxm = c->data_dx.target(dx, Workspace::kInput);
    run(c->backward_data, c->data_scratchpad,
        {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}}, stream);
    c->data_dx.send_out(dxm, dx, stream);
  }
  if (dw || db) {
    std::unique_ptr<float[]> unwanted_db, unwanted_dw;
    if (!db) db = (unwanted_db = std::unique_ptr<float[]>(new float[p.O])).get();
    if (!dw) dw = (unwanted_dw = std::unique_ptr<float[]>(new float[p.O * p.taps()])).get();
    if (!dx || c->data_dy.computed() != c->weights_dy.computed())
      dym = c->weights_dy.bring_in(dy, Workspace::kOutput, stream);
    const memory xm = c->weights_x.bring_in(x, Workspace::kInput, stream);
    const memory dwm = c->weights_dw.target(dw, Workspace::kWeights);
    run(c->backward_weights, c->weights_scratchpad,
        {{DNNL_ARG_DIFF_DST, dym},
         {DNNL_ARG_SRC, xm},
         {DNNL_ARG_DIFF_WEIGHTS, dwm},
         {DNNL_ARG_DIFF_BIAS, memory(c->bias, cpu_engine(), db)}},
        stream);
    c->weights_dw.send_out(dwm, dw, stream);
  }
  stream.wait();
}

#else  // without oneDNN every plan stays on im2col

bool dnnl_convolves(const ConvPlan&) { return false; }

void dnnl_convolution_forward(const ConvPlan&, const float*, const float*, const float*, float*) {
  throw std::logic_error("dnnl_convolution_forward: tapegrad was built without oneDNN");
}

void dnnl_convolution_backward(const ConvPlan&, const float*, const float*, const float*, float*, float*, float*) {
  throw std::logic_error("dnnl_convolution_backward: tapegrad was built without oneDNN");
}

#endif

}  // namespace tg::detail
