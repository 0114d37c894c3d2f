-- ArgoCD health check for diskless.dev/DisklessKafkaUser and diskless.dev/DisklessKafkaTopic (their statuses have the
-- same shape: observedGeneration and one Ready condition). Install it in argocd-cm under both keys:
--   resource.customizations.health.diskless.dev_DisklessKafkaUser: |
--     <this file>
--   resource.customizations.health.diskless.dev_DisklessKafkaTopic: |
--     <this file>
-- Progressing until the operator has written a status for the current generation (it writes observedGeneration with
-- every outcome, so an older one means the new spec is not applied yet), and while Ready is False for a reason that
-- passes by itself (the cluster or its brokers not ready yet, the user's Secret or a created topic not there yet);
-- Degraded when Ready is False for any other reason (a refused partition decrease or config, an ACL the cluster
-- cannot keep, a failed admin request: the operator retries, but a person has to look); Healthy when Ready is True.
local waiting = {
  ClusterNotReady = true,
  NoBrokerReady = true,
  SecretPending = true,
  TopicPending = true,
}
local hs = { status = "Progressing", message = "Waiting for the operator" }
if obj.status == nil then
  return hs
end
if obj.status.observedGeneration == nil or obj.metadata.generation == nil
    or obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
local ready = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    end
  end
end
if ready == nil then
  return hs
end
if ready.status == "True" then
  return { status = "Healthy", message = ready.message or "Ready" }
end
local message = ready.message or ready.reason or "Not ready"
if ready.reason ~= nil and waiting[ready.reason] then
  hs.message = message
  return hs
end
return { status = "Degraded", message = message }
