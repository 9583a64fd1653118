#pragma once
// The Cloud Storage sensors, as Airflow's: gcs_object_sensor (GCSObjectExistenceSensor, and
// GCSObjectsWithPrefixExistenceSensor with `prefix`) waits for an object, for any object matching a
// glob (`use_glob`), or for any object under a prefix; gcs_object_update_sensor
// (GCSObjectUpdateSensor) waits for an object to be updated after the run's data interval ends (or
// after `ts`). They poke through the Cloud Storage JSON API (objects.get, objects.list with paging)
// and take the sensor parameters (mode, poke_interval, timeout, soft_fail, exponential_backoff).

#include "operators/sensor_operator.h"

namespace mayaflow::gcp {

class GcpServices;

OperatorSpec gcs_object_sensor_spec();
OperatorSpec gcs_object_update_sensor_spec();

class GcsObjectSensor : public SensorOperator {
  public:
    // `services`: null for the process's shared ones.
    explicit GcsObjectSensor(GcpServices* services = nullptr) : services_(services) {}

  protected:
    const OperatorSpec& spec() const override;
    Result<std::shared_ptr<Poker>> make_poker(const TaskRun& run, const nlohmann::json& params) override;

  private:
    GcpServices* services_;
};

class GcsObjectUpdateSensor : public SensorOperator {
  public:
    explicit GcsObjectUpdateSensor(GcpServices* services = nullptr) : services_(services) {}

  protected:
    const OperatorSpec& spec() const override;
    Result<std::shared_ptr<Poker>> make_poker(const TaskRun& run, const nlohmann::json& params) override;

  private:
    GcpServices* services_;
};

}  // namespace mayaflow::gcp
