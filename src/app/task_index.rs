//! Tasks by local id: a hash table of row numbers that hashes the ids where they already are
//! (in the rows), instead of a map holding a second copy of every id (~10 MiB at 100k tasks).

use crate::store::TaskRow;
use hashbrown::HashTable;
use std::hash::BuildHasher;

#[derive(Default)]
pub(crate) struct TaskIndex {
    table: HashTable<u32>,
    /// foldhash, seeded per process: a start-up hashes 100k ids twice.
    hasher: hashbrown::DefaultHashBuilder,
}

impl TaskIndex {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The row of the task with this local id in `tasks` (the rows the index was built over).
    pub(crate) fn get(&self, tasks: &[TaskRow], id: &str) -> Option<usize> {
        self.table
            .find(self.hash(id), |&i| {
                tasks.get(i as usize).is_some_and(|t| &*t.local_id == id)
            })
            .map(|&i| i as usize)
    }

    /// Index row `i` of `tasks` (its id must not be indexed yet).
    pub(crate) fn insert(&mut self, tasks: &[TaskRow], i: usize) {
        let h = self.hash(&tasks[i].local_id);
        let hasher = &self.hasher;
        // Row numbers fit: 4 billion tasks do not fit in memory first.
        self.table.insert_unique(h, i as u32, |&j| {
            hasher.hash_one(&*tasks[j as usize].local_id)
        });
    }

    /// Room for `more` rows, so inserting them never grows the table on the way.
    pub(crate) fn reserve(&mut self, tasks: &[TaskRow], more: usize) {
        let hasher = &self.hasher;
        self.table
            .reserve(more, |&j| hasher.hash_one(&*tasks[j as usize].local_id));
    }

    /// Index every row of `tasks`, forgetting what was indexed. False when an id repeats
    /// (the index is then incomplete: clear it).
    pub(crate) fn rebuild(&mut self, tasks: &[TaskRow]) -> bool {
        self.table.clear();
        self.table.reserve(tasks.len(), |_| 0);
        for (i, t) in tasks.iter().enumerate() {
            if self.get(tasks, &t.local_id).is_some() {
                return false;
            }
            self.insert(tasks, i);
        }
        true
    }

    pub(crate) fn clear(&mut self) {
        self.table.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Phase, TaskRecord};

    #[test]
    fn finds_each_row_by_its_id_and_nothing_else() {
        let tasks: Vec<TaskRow> = (0..1000)
            .map(|n| TaskRow::from(TaskRecord::factory(&format!("l{n}"), Phase::Pending, n)))
            .collect();
        let mut index = TaskIndex::default();
        assert!(index.rebuild(&tasks));
        for (n, _) in tasks.iter().enumerate() {
            assert_eq!(index.get(&tasks, &format!("l{n}")), Some(n));
        }
        assert_eq!(index.get(&tasks, "l1000"), None);
        let mut twice = tasks.clone();
        twice.push(tasks[3].clone());
        assert!(!index.rebuild(&twice), "a repeated id is found");
        assert_eq!(index.get(&tasks, ""), None);
        index.clear();
        assert_eq!(index.get(&tasks, "l1"), None);
    }
}
