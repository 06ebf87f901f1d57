import { SavedPlan } from '../plan/plan-file.js';
import type { Plan } from '../plan/plan-model.js';
import { planOfFile } from '../plan/plan-of-file.js';

/** `show PLANFILE`: a saved plan as the plan it is, read offline (no tenant, no Graph), with its hash. */
export async function showPlan(path: string): Promise<Plan> {
  return planOfFile(await SavedPlan.open(path));
}
