-- ArgoCD health check for diskless.dev/DisklessKafkaCluster. Install it in argocd-cm as
--   resource.customizations.health.diskless.dev_DisklessKafkaCluster: |
--     <this file>
-- Degraded when the Degraded condition is True, also when the operator failed to reconcile a new generation (it
-- then keeps the last observedGeneration it reconciled, and says why in Degraded); Progressing until the operator
-- has observed the current generation, while brokers roll (Reconciling True) and until Ready is True; else Healthy.
local hs = { status = "Progressing", message = "Waiting for the operator" }
if obj.status == nil then
  return hs
end
local ready = nil
local reconciling = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Degraded" and c.status == "True" then
      return { status = "Degraded", message = c.message or c.reason or "Degraded" }
    end
    if c.type == "Ready" then
      ready = c
    end
    if c.type == "Reconciling" then
      reconciling = c
    end
  end
end
if obj.status.observedGeneration == nil or obj.metadata.generation == nil
    or obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.message or reconciling.reason or "Brokers rolling"
  return hs
end
if ready ~= nil and ready.status == "True" then
  return { status = "Healthy", message = ready.message or "Ready" }
end
if ready ~= nil then
  hs.message = ready.message or ready.reason or "Not ready"
end
return hs
