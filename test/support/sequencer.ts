import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Runs the log-leak check after every other file, so it sees the whole run's log. */
export default class LastFileLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isLast = (file: TestSpecification) => file.moduleId.includes("log-leak");
    return [...sorted.filter((file) => !isLast(file)), ...sorted.filter(isLast)];
  }
}
