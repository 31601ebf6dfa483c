import { Grant } from '@jit/domain';
import { tracedDueGrantWork } from './tracing';

describe(tracedDueGrantWork.name, () => {
  it("should hand the sweeper's slot gate on to the work it traces, so traced cloud calls still wait for a slot", async () => {
    const seen: unknown[][] = [];
    const useCase = {
      async execute(g: Grant, ...rest: unknown[]): Promise<Grant> {
        seen.push(rest);
        return g;
      },
    };
    const gate = { enter: async () => undefined, leave: () => undefined };
    const g = { id: 'g-1', cloud: 'aws', kind: 'aws.iam-policy', state: 'active' } as Grant;
    await expect(tracedDueGrantWork(useCase).execute(g, gate)).resolves.toBe(g);
    expect(seen).toEqual([[gate]]);
  });
});
