#pragma once

namespace tritonize {

/// Wall time and waiting behind one interface, so retry tests can assert backoff bounds
/// without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Seconds since an arbitrary fixed point (monotonic).
  virtual double Now() = 0;
  virtual void Sleep(double seconds) = 0;
};

/// std::chrono::steady_clock and std::this_thread::sleep_for.
Clock& SystemClock();

}  // namespace tritonize
